#!/usr/bin/env bash
# Makes the GPU bundle: a folder and a .tar.gz that run Recur's CUDA tests and GPU benchmarks on a
# Linux x86-64 host with an NVIDIA driver but no JDK, no Maven and no network.
#   scripts/make-gpu-bundle.sh [--no-build] [--offline]
#     --no-build  use the jars that the last build left in each module's target/ (./run-tests or
#                 ./mvnw package) instead of running ./mvnw -DskipTests package first
#     --offline   pass -o to Maven (every dependency must already be in ~/.m2)
# Output: target/gpu-bundle/recur-gpu/ and target/gpu-bundle/recur-gpu.tar.gz (under 60 MB, or
# this fails), holding
#   runtime/   a JDK 25 runtime made by jlink with only the modules the jars need
#   lib/       the jars of the recur command line and of `recur bench` (engines, kernels with the
#              fatbin, JCuda, Jackson, JMH, JFreeChart); not the DL4J peer (CPU hosts only)
#   test-lib/  engine-cuda's, engine-cpu's and models' tests jars and JUnit's console launcher
#   bin/       recur, cuda-tests, gpu-bench, verify-gpu;  python/  the PyTorch peer;  README.txt, BUILD.txt
# Finds a JDK 25 by itself (scripts/find-jdk.sh); it needs javac for the build, jlink and jdeps.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build=1 offline=()
for a in "$@"; do
  case $a in
    --no-build) build=0 ;;
    --offline) offline=(-o) ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-gpu-bundle: unknown option '$a' (--no-build, --offline)" >&2; exit 2 ;;
  esac
done

. scripts/find-jdk.sh
recur_find_jdk || exit 1
for tool in jlink jdeps jar; do
  if [ ! -x "$JAVA_HOME/bin/$tool" ]; then
    echo "make-gpu-bundle: $JAVA_HOME has no bin/$tool; a full JDK 25 is needed (not a JRE)" >&2
    exit 1
  fi
done
echo "make-gpu-bundle: JDK at $JAVA_HOME"

out=$root/target/gpu-bundle
bundle=$out/recur-gpu
archive=$out/recur-gpu.tar.gz
work=$out/work
limit_bytes=$((60 * 1000 * 1000))

# ---------------------------------------------------------------- the jars
if [ "$build" = 1 ]; then
  echo "make-gpu-bundle: building (./mvnw -B -ntp -DskipTests package)"
  ./mvnw -B -ntp ${offline[@]+"${offline[@]}"} -DskipTests -Dmaven.javadoc.skip=true package
fi
version=$(sed -n 's:^  <version>\(.*\)</version>.*:\1:p' pom.xml | head -n 1)
tests_jar=engine-cuda/target/engine-cuda-$version-tests.jar
cpu_tests_jar=engine-cpu/target/engine-cpu-$version-tests.jar
models_tests_jar=models/target/models-tests.jar
needed=(models/target/models.jar models/target/lib bench/target/bench.jar bench/target/lib "$tests_jar"
        "$models_tests_jar" "$cpu_tests_jar")
for f in "${needed[@]}"; do
  if [ ! -e "$f" ]; then
    echo "make-gpu-bundle: $f is missing; build first (./mvnw -B -ntp -DskipTests package) or drop --no-build" >&2
    exit 1
  fi
done
if [ "$build" = 0 ]; then
  # The jar plugin leaves an unchanged jar untouched, so a newer source is only a hint.
  newer=$(find pom.xml ./*/pom.xml ./*/src -newer bench/target/bench.jar -type f -print -quit 2>/dev/null || true)
  [ -n "$newer" ] && echo "make-gpu-bundle: note: $newer is newer than bench/target/bench.jar; the bundle holds the last build"
fi

rm -rf "$out"
mkdir -p "$bundle"/lib "$bundle"/test-lib "$bundle"/bin "$bundle"/python "$work"

# Third-party jars that no module's target/lib holds (JMH, JFreeChart, the JUnit console), and the
# names of the DL4J peer's jars; see scripts/gpu-bundle/pom.xml.
echo "make-gpu-bundle: resolving the bundle's other jars (scripts/gpu-bundle/pom.xml)"
./mvnw -B -ntp -q ${offline[@]+"${offline[@]}"} -f scripts/gpu-bundle/pom.xml -Dbundle.out="$work/mvn" \
  dependency:copy-dependencies@lib dependency:copy-dependencies@test-lib dependency:list@peer

# lib/: the command line (models.jar and what it runs with: the engines, the kernels jar with the
# fatbin, JCuda, Jackson), bench.jar, and bench's own libraries.
cp models/target/models.jar bench/target/bench.jar "$bundle"/lib/
cp "$work"/mvn/lib/*.jar "$bundle"/lib/
for j in models/target/lib/*.jar; do
  case $(basename "$j") in
    jcuda-natives-*) ;; # slimmed below
    *) cp "$j" "$bundle"/lib/ ;;
  esac
done
# JCuda's natives jar holds four libraries, 26 MB, 24 MB of it libJNvPTXCompiler (the PTX
# compiler binding). The engine uses only JCuda's driver API (jcuda.driver.JCudaDriver), which
# loads only lib/libJCudaDriver-<version>-linux-x86_64.so from the class path; the runtime,
# NVRTC and PTX-compiler bindings are never loaded. So the bundle carries a jar of that library
# alone, under the same path, which is where JCuda's LibUtils looks for it.
natives=$(ls models/target/lib/jcuda-natives-*-linux-x86_64.jar)
driver_so=$("$JAVA_HOME/bin/jar" --list --file "$natives" | grep '^lib/libJCudaDriver-.*\.so$' || true)
if [ -z "$driver_so" ]; then
  echo "make-gpu-bundle: $natives holds no lib/libJCudaDriver-*.so" >&2
  exit 1
fi
mkdir -p "$work/jcuda"
(cd "$work/jcuda" && "$JAVA_HOME/bin/jar" --extract --file "$root/$natives" "$driver_so")
slim=$(basename "$natives" .jar)-driver-only.jar
"$JAVA_HOME/bin/jar" --create --file "$bundle/lib/$slim" -C "$work/jcuda" lib

# The kernels jar must hold the fatbin: without it the CUDA engine cannot run a layer, and a GPU
# bundle without kernels is no use. The kernels build leaves NOT-BUILT.txt (its reason) instead
# when it had no nvcc.
kernels_jar=$(ls "$bundle"/lib/kernels-*.jar 2>/dev/null | head -n 1 || true)
kernels_list=$([ -n "$kernels_jar" ] && "$JAVA_HOME/bin/jar" --list --file "$kernels_jar" || true)
if ! printf '%s\n' "$kernels_list" | grep '\.fatbin$' > /dev/null; then
  echo "make-gpu-bundle: lib/$(basename "${kernels_jar:-kernels-*.jar}") holds no fatbin: the kernels were not compiled." >&2
  not_built=$(printf '%s\n' "$kernels_list" | grep 'NOT-BUILT\.txt$' | head -n 1 || true)
  if [ -n "$not_built" ]; then
    mkdir -p "$work/kernels"
    (cd "$work/kernels" && "$JAVA_HOME/bin/jar" --extract --file "$kernels_jar" "$not_built")
    echo "  the kernels build says: $(cat "$work/kernels/$not_built")" >&2
  fi
  echo "  Build on a machine with nvcc (CUDA 13) on PATH or in /usr/local/cuda/bin." >&2
  exit 1
fi

# test-lib/: the CUDA engine's tests (their other needs, engine-api and engine-cpu, are in lib/),
# engine-cpu's tests (for the option-path tests' float64 oracle, OptionsOracle; none of them is run),
# the models' tests (bin/cuda-tests runs the two that use the GPU: the PyTorch fixtures and the
# training runs, cpu against cuda) and the JUnit console launcher with Jupiter inside.
cp "$tests_jar" "$cpu_tests_jar" "$models_tests_jar" "$work"/mvn/test-lib/*.jar "$bundle"/test-lib/

# Every jar bench runs with is in lib/ or is the DL4J peer's: a jar that bench gains and that
# the bundle pom does not list fails here, not on the GPU host.
grep -o '/[^/ ]*\.jar' "$work/mvn/peer.txt" | sed 's:^/::' | sort -u > "$work/peer-jars.txt"
left_out=()
for j in bench/target/lib/*.jar; do
  name=$(basename "$j")
  if [ -e "$bundle/lib/$name" ] || [ "$name" = "$(basename "$natives")" ] || [ "$name" = "models-$version.jar" ]; then
    continue
  fi
  if ! grep -qxF "$name" "$work/peer-jars.txt"; then
    echo "make-gpu-bundle: bench/target/lib/$name is neither in the bundle nor the DL4J peer's;" \
         "add bench's new dependency to scripts/gpu-bundle/pom.xml" >&2
    exit 1
  fi
  left_out+=("$name")
done
for j in "$bundle"/lib/*.jar; do
  if grep -qxF "$(basename "$j")" "$work/peer-jars.txt"; then
    echo "make-gpu-bundle: lib/$(basename "$j") is a DL4J peer jar" >&2
    exit 1
  fi
done
if [ ${#left_out[@]} -gt 0 ]; then
  echo "make-gpu-bundle: left out ${#left_out[@]} jars of the DL4J peer ($(cd bench/target/lib && du -ch "${left_out[@]}" | tail -n 1 | cut -f1))"
fi

# Every class our jars use is in the bundle, apart from the DL4J peer's (bench's Dl4jPeer and its
# JMH benchmarks, which say that DL4J is missing when asked for).
cp_all=$(ls "$bundle"/lib/*.jar "$bundle"/test-lib/*.jar | paste -sd: -)
ours=("$bundle/lib/models.jar" "$bundle/lib/bench.jar" "$bundle"/lib/engine-*.jar "$bundle"/test-lib/engine-cuda-*-tests.jar
      "$bundle"/test-lib/models-tests.jar)
missing=$("$JAVA_HOME/bin/jdeps" --multi-release 25 --missing-deps -cp "$cp_all" "${ours[@]}" 2>&1 \
  | grep -- '->.*not found' | grep -v -- '-> *org\.\(nd4j\|deeplearning4j\|bytedeco\)\.' \
  | grep -v -- '-> not found$' || true)
if [ -n "$missing" ]; then
  echo "make-gpu-bundle: classes that the bundle's jars use are missing:" >&2
  echo "$missing" >&2
  exit 1
fi

# ---------------------------------------------------------------- the runtime
# The modules, and why:
#   java.base; jdk.incubator.vector (the CPU engine's SIMD kernels);
#   java.logging (JCuda, JMH); java.management, jdk.management (JMH: its runner, -prof gc);
#   jdk.unsupported (sun.misc.Unsafe: JMH);
#   java.sql (Jackson's java.sql types, the JUnit console; brings java.xml for its XML reports);
#   jdk.zipfs (JUnit scans the tests jar through the zip file system, a service jdeps cannot see);
#   jdk.jcmd (jcmd, jstack: thread dumps of a hung run on a host without a JDK; 0.2 MB).
# Left out on purpose: java.desktop (+12 MB compressed, 40% of the runtime), which only the bench
# report's chart (JFreeChart) and a commons-math3 geometry class that JMH does not use need; without
# it `recur bench report` writes its table and says "no chart". A module that jdeps finds the jars
# need beyond these (and java.desktop) fails the build here.
modules=java.base,jdk.incubator.vector,java.logging,java.management,jdk.management,jdk.unsupported,java.sql,jdk.zipfs,jdk.jcmd
wanted=$("$JAVA_HOME/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps -cp "$cp_all" \
  "$bundle"/lib/*.jar "$bundle"/test-lib/*.jar 2>/dev/null | tail -n 1)
for m in ${wanted//,/ }; do
  case ",$modules,java.desktop,java.xml,java.transaction.xa," in
    *",$m,"*) ;;
    *) echo "make-gpu-bundle: the jars need module $m (jdeps: $wanted), which the runtime lacks; add it to" \
            "the module list in scripts/make-gpu-bundle.sh" >&2
       exit 1 ;;
  esac
done
echo "make-gpu-bundle: jlink $modules (jdeps: $wanted)"
# --compress zip-9: JDK 21+'s spelling (the numbered levels 0/1/2 are deprecated).
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages \
  --compress zip-9 --output "$bundle/runtime" 2>&1 | grep -v 'Using incubator modules' || true
if [ ! -x "$bundle/runtime/bin/java" ]; then
  echo "make-gpu-bundle: jlink made no runtime" >&2
  exit 1
fi

# ---------------------------------------------------------------- scripts, notes, archive
cp scripts/gpu-bundle/bin/recur scripts/gpu-bundle/bin/cuda-tests scripts/gpu-bundle/bin/gpu-bench \
  scripts/gpu-bundle/bin/verify-gpu "$bundle"/bin/
chmod +x "$bundle"/bin/*
cp bench/python/torch_rnn_bench.py "$bundle"/python/
cp scripts/gpu-bundle/README.txt "$bundle"/README.txt
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit=$commit-dirty
fi
{
  echo "commit: $commit"
  echo "made: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -sm)"
  # The jlinked release file keeps only JAVA_VERSION and MODULES; the version line says more.
  echo "runtime: $("$bundle/runtime/bin/java" -version 2>&1 | sed -n 2p), jlinked from $JAVA_HOME"
  echo "modules: $(sed -n 's/^MODULES="\(.*\)"/\1/p' "$bundle/runtime/release")"
  echo "lib: $(cd "$bundle/lib" && ls | paste -sd' ' -)"
  echo "test-lib: $(cd "$bundle/test-lib" && ls | paste -sd' ' -)"
} > "$bundle/BUILD.txt"
rm -rf "$work"

tar -C "$out" -cf - recur-gpu | gzip -9 > "$archive"
size=$(wc -c < "$archive")
echo "make-gpu-bundle: sizes (unpacked): runtime $(du -sh "$bundle/runtime" | cut -f1), lib $(du -sh "$bundle/lib" | cut -f1)," \
     "test-lib $(du -sh "$bundle/test-lib" | cut -f1), all $(du -sh "$bundle" | cut -f1)"
echo "make-gpu-bundle: $archive: $((size / 1000 / 1000)).$(((size / 10000) % 100)) MB ($size bytes; limit $((limit_bytes / 1000 / 1000)) MB)"
if [ "$size" -ge "$limit_bytes" ]; then
  echo "make-gpu-bundle: the archive is over the limit of $limit_bytes bytes" >&2
  exit 1
fi
echo "make-gpu-bundle: done: $bundle"
