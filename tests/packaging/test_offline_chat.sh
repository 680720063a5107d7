#!/usr/bin/env bash
# app.offline_chat: the desktop app chats end to end with no network, and never even tries to use one.
#
#   test_offline_chat.sh GEMMADESK GEMMADESK_CLI WORKDIR
#
# 1. Runs `gemmadesk --model tiny.gguf --send Hello --exit-when-done` inside a new network namespace
#    (`unshare -n`: no interfaces but a loopback that is down, so every connection attempt fails) and
#    checks it exits 0 and prints the answer with its "[finish: ...]" line.
# 2. Runs the same under `strace -f -e trace=socket,connect` and fails if any AF_INET/AF_INET6 socket
#    was created or connected. AF_UNIX (X11, D-Bus, nscd) and AF_NETLINK (interface lists) are no
#    network traffic and are allowed.
# Exit 77 (ctest SKIP_RETURN_CODE) when this machine does not allow `unshare -n`, or, after part 1
# passed, when strace is missing or not allowed to trace.
set -uo pipefail

app=$1 cli=$2 work=$3
SKIP=77
fail() { echo "FAIL: $*"; exit 1; }

rm -rf "$work" && mkdir -p "$work/runtime" || fail "cannot create $work"
chmod 700 "$work/runtime"
export QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR="$work/runtime" HOME="$work/home"
unset DISPLAY WAYLAND_DISPLAY http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
mkdir -p "$HOME"

# A network namespace needs CAP_SYS_ADMIN (root) or, for other users, a user namespace as well.
if unshare -n true 2>/dev/null; then
  netns=(unshare -n)
elif unshare -rn true 2>/dev/null; then
  netns=(unshare -rn)
else
  echo "SKIP: unshare -n is not permitted on this machine"
  exit $SKIP
fi
# /proc/net/dev lists the interfaces of the reader's namespace: only lo may be there.
links=$("${netns[@]}" cat /proc/net/dev | awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}' | tr '\n' ' ')
[ "$links" = "lo " ] || fail "the new network namespace has interfaces other than lo: $links"

"$cli" make-test-model --variant e2b --out "$work/e2b.gguf" > "$work/make-model.log" 2>&1 \
  || fail "make-test-model: $(cat "$work/make-model.log")"

check_answer() {  # LABEL RC OUT ERR
  local label=$1 rc=$2 out=$3 err=$4
  if [ "$rc" -ne 0 ]; then
    echo "--- stderr ($label)"; tail -40 "$err"
    fail "$label: gemmadesk exited with $rc"
  fi
  grep -aq '^\[finish: ' "$out" || { echo "--- stdout"; cat "$out"; echo "--- stderr"; tail -40 "$err"; fail "$label: no [finish: ...] line on stdout"; }
  [ "$(sed '/^\[finish: /,$d' "$out" | tr -d '[:space:]' | wc -c)" -gt 0 ] || fail "$label: the answer is empty"
  echo "PASS: $label ($(grep -a '^\[finish: ' "$out"))"
}

# 1. Chat inside the empty network namespace (ASan leak checking stays on here).
"${netns[@]}" timeout 240 "$app" --data-dir "$work/data1" --model "$work/e2b.gguf" --send "Hello" --exit-when-done \
  > "$work/out1.txt" 2> "$work/err1.txt"
check_answer "chat in an empty network namespace" $? "$work/out1.txt" "$work/err1.txt"

# 2. No AF_INET/AF_INET6 socket at all.
if ! command -v strace >/dev/null; then
  echo "SKIP: strace is not installed (scripts/install-deps.sh installs it): the no-socket check did not run"
  exit $SKIP
fi
if ! strace -f -o /dev/null true 2>/dev/null; then
  echo "SKIP: strace cannot trace on this machine (ptrace not permitted): the no-socket check did not run"
  exit $SKIP
fi
# The detector must see an IP socket where there is one: bash's /dev/tcp makes an AF_INET socket and
# connect()s it, which must fail in the namespace.
"${netns[@]}" strace -f -q -e trace=socket,connect -o "$work/probe.log" \
  bash -c 'exec 3<>/dev/tcp/127.0.0.1/9' 2> "$work/probe.err" && fail "a TCP connection succeeded inside the namespace"
grep -Eq 'socket\(AF_INET' "$work/probe.log" || fail "strace did not log the probe's AF_INET socket: $(cat "$work/probe.log")"
# LeakSanitizer cannot run under ptrace (it stops the world with ptrace itself), so leak checking is
# off for this run only; run 1 above keeps it.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
  "${netns[@]}" strace -f -q -e trace=socket,connect -o "$work/strace.log" \
  timeout 240 "$app" --data-dir "$work/data2" --model "$work/e2b.gguf" --send "Hello" --exit-when-done \
  > "$work/out2.txt" 2> "$work/err2.txt"
check_answer "chat under strace" $? "$work/out2.txt" "$work/err2.txt"
grep -q '+++ exited with' "$work/strace.log" || fail "strace logged nothing: $(head -5 "$work/strace.log")"
if grep -E 'AF_INET6?[,}]|sa_family=AF_INET' "$work/strace.log" > "$work/inet.txt"; then
  echo "--- IP sockets:"; head -20 "$work/inet.txt"
  fail "gemmadesk created or connected an AF_INET/AF_INET6 socket"
fi
families=$(grep -o 'socket(AF_[A-Z0-9]*' "$work/strace.log" | sed 's/socket(//' | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')
echo "PASS: no AF_INET/AF_INET6 socket created or connected (socket() calls: ${families:-none})"
