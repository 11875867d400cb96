#!/usr/bin/python3
"""as_person.py USER PASSWORD COMMAND...: COMMAND as USER on a
pseudo-terminal, as a person logged in at a terminal: `su -l` opens a
logind session for USER through PAM (pam_systemd), as a login by ssh or
on a console does: polkitd takes polkit's text agent (pkttyagent, which
coldroomctl starts on a terminal as a fallback agent for itself) only for
a caller in a session. When the agent asks for a password,
PASSWORD is typed; when it lists identities, USER's is chosen. A wrong
password is typed at most 3 times, then the prompt gets end of file (the
person gives up). The command's output goes to stdout; the exit status is
the command's (124 when it took longer than 120 s times $WAIT_SCALE).

The command's terminal is this pty itself, made its controlling terminal
by setsid(1) inside the session (`su -c` gives none): not `su --pty`,
whose own inner pty would echo and hide the agent's terminal settings
from this side. The agent prints its prompt, then turns echo off and
flushes what was typed so far; the password is typed only once echo is
off here, as a person would."""
import os
import re
import select
import shlex
import signal
import sys
import termios
import time

user, password, command = sys.argv[1], sys.argv[2], sys.argv[3:]
deadline = time.monotonic() + 120 * float(os.environ.get("WAIT_SCALE", "1"))

fd, terminal = os.openpty()
pid = os.fork()
if pid == 0:
    # A session of its own without a controlling terminal: the command takes
    # the pty as its own (setsid -c) once su has opened the person's session.
    # As root su asks for no password (pam_rootok); the session is the point.
    os.close(fd)
    os.setsid()
    for n in (0, 1, 2):
        os.dup2(terminal, n)
    os.close(terminal)
    os.execvp("su", ["su", "-l", user, "-c",
                     shlex.join(["setsid", "--ctty", "--wait"] + command)])
os.close(terminal)

seen, typed = b"", 0
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        sys.exit(124)
    ready, _, _ = select.select([fd], [], [], min(left, 1.0))
    if not ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:  # EIO: the command and everything on the terminal ended
        data = b""
    if not data:
        break
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    seen += data
    choose = re.search(rb"Choose identity to authenticate as \(1-\d+\): *$", seen)
    if choose:
        mine = re.search(rb"(\d+)\.\s+.*\(" + re.escape(user.encode()) + rb"\)", seen)
        os.write(fd, (mine.group(1) if mine else b"1") + b"\n")
        seen = b""
    elif re.search(rb"[Pp]assword: *$", seen):
        # Echo off: the agent reads (tcgetattr on the master reads the
        # terminal's own settings).
        while termios.tcgetattr(fd)[3] & termios.ECHO:
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        os.write(fd, (password + "\n").encode() if typed < 3 else b"\x04")
        typed += 1
        seen = b""
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
