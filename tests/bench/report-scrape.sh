#!/bin/bash
# Writes the BENCHMARKS.md section (to stdout) of the scrape comparison
# from bench-guest.sh's SCRAPE lines: coldroom-metrics beside
# node_exporter's hwmon collector, the same units, one run. Nothing when
# there are no SCRAPE lines.
#
#   report-scrape.sh RESULTS
set -euo pipefail
results=${1:?}
awk '
$1 == "SCRAPE" {
	n = $2; k = $3; keys[++nk] = k; scrapes = $4
	cpu[k] = $5; daemon[k] = $6; wall[k] = $7; bytes[k] = $8; samples[k] = $9
}
END {
	if (!nk)
		exit
	print "<!-- bench-scrape: begin -->"
	printf "## A Prometheus scrape of %d units\n\n", n
	printf "The same units, coldroomd running in its default configuration: %d scrapes\n", scrapes
	printf "one after the other with curl, of coldroom-metrics (`--listen`, the\n"
	printf "program the packaged socket starts) and of Debian'\''s\n"
	printf "prometheus-node-exporter with only its hwmon collector, which reads the\n"
	printf "units'\'' hwmon attribute files on every scrape. CPU is the exporter'\''s own\n"
	printf "(`/proc/PID/schedstat`); for coldroom-metrics, coldroomd'\''s CPU beyond its\n"
	printf "readings work (measured idle for 10 s just before) is shown beside it:\n"
	printf "it answers one GetReadings call per scrape.\n\n"
	printf "| exporter | CPU per scrape | + coldroomd | scrape duration | page | samples |\n"
	printf "|---|---:|---:|---:|---:|---:|\n"
	for (i = 1; i <= nk; i++) {
		k = keys[i]
		printf "| %s | %.1f ms | %s | %.1f ms | %.1f MiB | %d |\n", k, cpu[k] / 1e6, \
			k == "coldroom-metrics" ? sprintf("%.1f ms", daemon[k] / 1e6) : "-", \
			wall[k] / 1000, bytes[k] / 1048576, samples[k]
	}
	a = "coldroom-metrics"; b = "node-exporter-hwmon"
	if (cpu[a] > 0 && wall[a] > 0 && cpu[b] > 0)
		printf "\nRatio, node-exporter to coldroom-metrics (with coldroomd'\''s share), same run:\n%.1fx the CPU per scrape, %.1fx the scrape duration. Under TCG; the native cost of\ncoldroom-metrics is in the bench-native section.\n", \
			cpu[b] / (cpu[a] + (daemon[a] > 0 ? daemon[a] : 0)), wall[b] / wall[a]
	print "<!-- bench-scrape: end -->"
}' "$results"
