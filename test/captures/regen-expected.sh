#!/bin/sh
# Regenerates the tshark view of every capture fixture (FILE.tshark.tsv beside FILE): one line per
# packet with frame.time_epoch, frame.len, frame.cap_len, frame.interface_name, frame.comment and
# frame.packet_flags_direction. test/captures/tools.test.ts reads these files, so the comparison with
# Wireshark also runs where tshark is not installed. Run from anywhere; needs tshark.
set -eu
cd "$(dirname "$0")/../fixtures/captures"
for f in *.pcap *.pcapng; do
  tshark -r "$f" -T fields -E separator=/t \
    -e frame.time_epoch -e frame.len -e frame.cap_len -e frame.interface_name -e frame.comment \
    -e frame.packet_flags_direction >"$f.tshark.tsv" 2>/dev/null
done
