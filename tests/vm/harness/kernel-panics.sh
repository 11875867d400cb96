#!/bin/bash
# Guest: the kernel panics mid-test; the host must fail, not hang or pass.
echo "this script crashes the kernel on purpose"
echo c >/proc/sysrq-trigger
sleep 60
