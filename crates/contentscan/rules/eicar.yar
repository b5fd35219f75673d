// The EICAR anti-virus test file, as its specification defines it: the file starts with the
// 68-byte string, optionally followed by whitespace (space, tab, LF, CR, Ctrl-Z) only, and is
// at most 128 bytes long. The same string inside a larger file is not the test file.
rule eicar_test_file {
  meta:
    description = "EICAR anti-virus test file"
    severity = "high"
  strings:
    $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
  condition:
    $eicar at 0 and filesize <= 128 and (
      filesize == 68 or
      for all i in (68..filesize - 1) : (
        uint8(i) == 0x20 or uint8(i) == 0x09 or uint8(i) == 0x0a or
        uint8(i) == 0x0d or uint8(i) == 0x1a
      )
    )
}
