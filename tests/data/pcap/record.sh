#!/bin/bash
# record.sh - re-records the capture fixtures of tests/data/pcap (root only).
#
#   sudo tests/data/pcap/record.sh [OUTDIR]     (default: this directory)
#   sudo ONLY="reply-dropped" tests/data/pcap/record.sh   (only these scenarios)
#
# Everything happens in two network namespaces made here and deleted on exit:
#
#   client  vc 10.77.0.1/24 fd77::1/64 -- veth -- ve 10.77.0.2/24 10.77.0.3/24 fd77::2/64  endpoint
#
# Neither namespace has a default route, so no packet can leave them; the
# host's interfaces are never touched. nftables on the endpoint's input plays
# its security group (drop, reject admin-prohibited), on the client's output
# the instance's own (and, for reply-dropped, its input: the SYN-ACK is dropped
# after the capture saw it). Each scenario is captured by up to three tcpdumps inside
# the client namespace at once: on the veth (Ethernet, NAME.eth.pcap), on
# "any" (Linux cooked v1, NAME.sll.pcap) and on "any" as LINUX_SLL2
# (NAME.sll2.pcap), each with a BPF filter that keeps only that scenario's
# packets. convert.py then derives the raw-IP, BSD-loopback, pcapng and broken
# variants. Only the PIDs started here are ever signalled.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
export PATH="$PATH:/usr/sbin:/sbin"
[ "$(id -u)" -eq 0 ] || { echo "record.sh: needs root (network namespaces)" >&2; exit 3; }
for tool in ip nft tcpdump python3; do
    command -v $tool >/dev/null || { echo "record.sh: $tool is missing" >&2; exit 3; }
done

C=ldhs-c-$$                 # the client namespace
E=ldhs-e-$$                 # the endpoint namespace
WORK=$(mktemp -d)           # tcpdump writes here; fixtures are copied out when all went well
PIDS=""                     # every background process started here

cleanup() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
    for pid in $PIDS; do wait "$pid" 2>/dev/null || true; done
    ip netns del "$C" 2>/dev/null || true
    ip netns del "$E" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

cns() { ip netns exec "$C" "$@"; }
ens() { ip netns exec "$E" "$@"; }

# --- the lab ----------------------------------------------------------------
ip netns add "$C"
ip netns add "$E"
ip link add vc netns "$C" address 02:00:00:00:00:01 type veth \
    peer name ve netns "$E" address 02:00:00:00:00:02
cns ip link set lo up
cns ip addr add 10.77.0.1/24 dev vc
cns ip addr add fd77::1/64 dev vc nodad
cns ip link set vc up
ens ip link set lo up
ens ip addr add 10.77.0.2/24 dev ve
ens ip addr add 10.77.0.3/24 dev ve
ens ip addr add fd77::2/64 dev ve nodad
ens ip link set ve up

# The endpoint's security group.
ens nft -f - <<'NFT'
table inet ldhs {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport { 8441, 8451 } drop
        ip daddr 10.77.0.3 tcp dport 8445 drop
        meta nfproto ipv4 tcp dport 8442 reject with icmp type admin-prohibited
        meta nfproto ipv6 tcp dport 8452 reject with icmpv6 type admin-prohibited
    }
}
NFT
# The instance's own security group: its SYN never reaches the wire. Its own
# input firewall: the endpoint's SYN-ACK on 8449 arrives and is dropped.
cns nft -f - <<'NFT'
table inet ldhs {
    chain output {
        type filter hook output priority 0; policy accept;
        meta nfproto ipv4 tcp dport 8446 reject with icmp type admin-prohibited
    }
    chain input {
        type filter hook input priority 0; policy accept;
        tcp sport 8449 drop
    }
}
NFT

# Listeners: 8444, 8445 and 8449 on the endpoint (both addresses), 8450 over
# IPv6, 8447 on the client's own loopback. 8443 and 8448 have none (RST).
start_server() { # NETNS ADDR PORT...
    local ns=$1
    shift
    ip netns exec "$ns" python3 "$HERE/peer.py" serve "$@" >"$WORK/serve.$$.$RANDOM" 2>&1 &
    PIDS="$PIDS $!"
}
start_server "$E" 0.0.0.0 8444 8445 8449
start_server "$E" :: 8450
start_server "$C" 127.0.0.1 8447

# Waits until every server can be connected to (python takes a moment to start).
wait_port() { # NETNS ADDR PORT
    for _ in $(seq 50); do
        if ip netns exec "$1" python3 -c "import socket,sys; socket.create_connection(('$2', $3), 0.2).close()" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "record.sh: server $2:$3 did not start" >&2
    exit 1
}
wait_port "$E" 10.77.0.2 8444
wait_port "$E" fd77::2 8450
wait_port "$C" 127.0.0.1 8447

# --- scenarios --------------------------------------------------------------
# record NAME LINKS FILTER EXPECT ADDR PORT [EXPECT ADDR PORT...]
# Captures on LINKS (eth sll sll2) while the client connects to each ADDR PORT
# (giving up after 1.5 s: two SYNs when nothing answers) and checks that each
# connect ended as EXPECT.
record() {
    local name=$1 links=$2 filter=$3
    shift 3
    case " ${ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
    local caps="" link pid
    for link in $links; do
        # tcpdump 4.99 defaults to LINUX_SLL2 on "any": name both cooked types.
        local dev="-i vc" extra=""
        [ "$link" = sll ] && dev="-i any" extra="-y LINUX_SLL"
        [ "$link" = sll2 ] && dev="-i any" extra="-y LINUX_SLL2"
        # Not through cns(): $! must be tcpdump itself (ip netns exec execs it), not a subshell.
        # shellcheck disable=SC2086
        ip netns exec "$C" tcpdump -n -U --immediate-mode -s 160 -Z root $dev $extra -w "$WORK/$name.$link.pcap" "$filter" \
            2>"$WORK/$name.$link.log" &
        pid=$!
        PIDS="$PIDS $pid"
        caps="$caps $pid"
        for _ in $(seq 50); do
            grep -qs "listening on" "$WORK/$name.$link.log" && break
            sleep 0.1
        done
    done
    while [ $# -ge 3 ]; do
        local got
        got=$(cns python3 "$HERE/peer.py" connect "$2" "$3" 1.5)
        if [ "$got" != "$1" ]; then
            echo "record.sh: $name: connect to $2 port $3 gave '$got', expected '$1'" >&2
            exit 1
        fi
        shift 3
    done
    sleep 0.3 # let the last FIN/ACK reach every capture
    for pid in $caps; do kill -INT "$pid"; done
    for pid in $caps; do
        wait "$pid" || true
        PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$pid" | tr '\n' ' ') # never signal a reused PID
    done
    for link in $links; do
        grep -h "captured" "$WORK/$name.$link.log" | sed "s/^/$name.$link: /"
        if ! grep -q "^0 packets dropped by kernel" "$WORK/$name.$link.log"; then
            echo "record.sh: $name.$link: the kernel dropped packets; run again" >&2
            exit 1
        fi
    done
}

record dropped "eth sll sll2" "tcp port 8441" \
    timeout 10.77.0.2 8441
record rejected "eth sll sll2" "tcp port 8442 or icmp" \
    "unreachable: EHOSTUNREACH" 10.77.0.2 8442
record refused "eth sll sll2" "tcp port 8443" \
    refused 10.77.0.2 8443
record established "eth sll sll2" "tcp port 8444" \
    open 10.77.0.2 8444
record partial "eth sll sll2" "tcp port 8445" \
    open 10.77.0.2 8445 timeout 10.77.0.3 8445
record local-reject "eth sll sll2" "tcp port 8446 or icmp" \
    "unreachable: EHOSTUNREACH" 10.77.0.2 8446
record loopback "sll sll2" "tcp port 8447 or tcp port 8448" \
    open 127.0.0.1 8447 refused 127.0.0.1 8448
record ipv6 "eth sll sll2" "tcp port 8450 or tcp port 8451 or tcp port 8452 or (icmp6 and ip6[40] == 1)" \
    open fd77::2 8450 timeout fd77::2 8451 "unreachable: EACCES" fd77::2 8452
record reply-dropped "eth sll sll2" "tcp port 8449" \
    timeout 10.77.0.2 8449

mkdir -p "$OUT"
cp "$WORK"/*.pcap "$OUT"/
python3 "$HERE/convert.py" "$OUT"
echo "record.sh: fixtures written to $OUT"
