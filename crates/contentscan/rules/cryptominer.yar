// A cryptocurrency miner: a stratum mining-pool URL together with the names miners carry
// (XMRig and its forks dominate cryptojacking in containers). Either alone is common in
// documentation; the two together are a miner binary or its config.json.
rule cryptominer_stratum {
  meta:
    description = "Cryptocurrency miner (stratum pool URL with miner strings)"
    severity = "critical"
  strings:
    $pool = /stratum\+(tcp|ssl|tls):\/\/[A-Za-z0-9.\-]{1,253}:[0-9]{2,5}/ nocase
    $m1 = "xmrig" nocase
    $m2 = "randomx" nocase
    $m3 = "cryptonight" nocase
    $m4 = "donate-level"
    $m5 = "nicehash" nocase
  condition:
    $pool and any of ($m*)
}
