# Shared shell helpers for scripts/run.sh and scripts/test.sh.

# port_open HOST PORT: whether something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_port HOST PORT SECONDS WHAT: wait until the port accepts connections, or fail.
wait_port() {
  local host=$1 port=$2 secs=$3 what=$4 i
  for ((i = 0; i < secs * 5; i++)); do
    port_open "$host" "$port" && return 0
    sleep 0.2
  done
  echo "error: $what did not start listening on $host:$port within ${secs}s" >&2
  return 1
}

# free_port: a TCP port nobody listens on.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# host_port URL: prints "HOST PORT" of http://HOST:PORT (default port 7233).
host_port() {
  local rest=${1#*://}
  rest=${rest%%/*}
  local host=${rest%:*} port=${rest##*:}
  [[ $rest == *:* ]] || port=7233
  echo "$host $port"
}
