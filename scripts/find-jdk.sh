# Sourced by every Recur script: finds a JDK 25 (or newer) and exports JAVA_HOME.
# Order: $JAVA_HOME, the `java` on PATH, then the usual install folders. Stops with a message
# naming everything it looked at when none is found.
# RECUR_JDK_DIRS (colon-separated JDK homes) replaces the usual install folders: for a JDK kept
# elsewhere, and for tests that must see only the JDKs they made (models' LauncherTest).

recur_jdk_major() { # $1 = a JDK home; prints its feature version or nothing
  local home=$1 v=""
  [ -x "$home/bin/java" ] || return 0
  if [ -f "$home/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$home/release" | head -n 1)
  fi
  if [ -z "$v" ]; then
    v=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n 1)
  fi
  printf '%s' "$v"
}

recur_jdk_places() { # the folders recur_find_jdk looks in after JAVA_HOME and PATH, in words
  if [ -n "${RECUR_JDK_DIRS:-}" ]; then
    printf 'RECUR_JDK_DIRS (%s)' "$RECUR_JDK_DIRS"
  else
    printf '%s' "/usr/lib/jvm/*, /opt/java/*, /opt/jdk*, /usr/local/jdk*, /usr/java/*, ~/.sdkman/candidates/java/*, ~/.jdks/*, /Library/Java/JavaVirtualMachines/*"
  fi
}

recur_find_jdk() {
  local min=25 tried=() cand major
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  local dirs=()
  if [ -n "${RECUR_JDK_DIRS:-}" ]; then
    IFS=: read -r -a dirs <<< "$RECUR_JDK_DIRS"
  else
    dirs=(/usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/jdk* /usr/java/*
          "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*
          /Library/Java/JavaVirtualMachines/*/Contents/Home)
  fi
  for cand in ${dirs[@]+"${dirs[@]}"}; do
    [ -d "$cand" ] && candidates+=("$cand")
  done
  for cand in "${candidates[@]}"; do
    major=$(recur_jdk_major "$cand")
    tried+=("$cand (${major:-no java})")
    # javac is needed to build; a jlinked runtime (no javac) is enough only to run.
    if [ -n "$major" ] && [ "$major" -ge "$min" ] && \
       { [ -x "$cand/bin/javac" ] || [ "${RECUR_RUNTIME_ONLY:-0}" = 1 ]; }; then
      export JAVA_HOME="$cand"
      return 0
    fi
  done
  {
    echo "recur: no JDK $min or newer found."
    echo "  looked at JAVA_HOME, the java on PATH, $(recur_jdk_places):"
    if [ ${#tried[@]} -eq 0 ]; then echo "    (none of these exist)"; fi
    for cand in "${tried[@]}"; do echo "    $cand"; done
    echo "  Install a JDK $min (for example Eclipse Temurin 25) and set JAVA_HOME to it."
  } >&2
  return 1
}
