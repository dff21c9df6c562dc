# Sourced by the integration suites that start VMs in the background (with
# the suite's own arguments: BUILD_DIR): the build's paths, a scratch
# directory, and the VMs the suite adds to $pids, killed at exit.
set -u
BUILD=${1:-build}
XENKVM=$BUILD/xenkvm
GUESTS=$BUILD/guests
WORK=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
