#!/bin/bash
# Guest: a script that never ends; the harness must stop it and fail.
echo "this script hangs on purpose"
exec sleep infinity
