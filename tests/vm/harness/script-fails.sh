#!/bin/bash
# Guest: a script that fails; the host side must report its exit status.
echo "this script fails on purpose"
exit 3
