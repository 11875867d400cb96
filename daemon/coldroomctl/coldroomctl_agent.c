// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * coldroomctl_agent.c - the password prompt of an act (ack, sign, set,
 * reload, firmware reload, calibrate): the calls allow interactive
 * authorization, and on a terminal a text agent (pkttyagent) is started, as
 * systemd's tools do, so that polkit can ask the person here. pkttyagent
 * registers for its parent, this process, as a fallback agent; polkitd
 * takes a fallback agent only when the caller is in a logind session
 * (and no agent of the session's own, a desktop's, is there). Without a
 * login session (a service, runuser) there is no agent to ask and the act
 * is refused, as systemctl's prompts are.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coldroomctl.h"

#define AGENT "pkttyagent"
/* A person reads the prompt and types: the call waits that long for them. */
#define ACT_TIMEOUT_USEC (300ULL * 1000000ULL)
/*
 * The call waits for the agent to register, as systemd's tools do: a call
 * made before it is refused for want of an agent, and a loaded host may
 * take many seconds to start it. Bounded only by the act's own timeout (an
 * agent that exits unregistered ends the wait at once).
 */
#define AGENT_REGISTER_MS ((int)(ACT_TIMEOUT_USEC / 1000))

static pid_t agent_pid;

static void agent_start(void)
{
	char fd_arg[32];
	int notify[2], r;
	struct pollfd p;
	pid_t pid;

	if (pipe2(notify, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid < 0) {
		close(notify[0]);
		close(notify[1]);
		return;
	}
	if (pid == 0) {
		/* The agent keeps the notify end only; it closes it once registered. */
		if (fcntl(notify[1], F_SETFD, 0) < 0)
			_exit(127);
		snprintf(fd_arg, sizeof(fd_arg), "%d", notify[1]);
		execlp(AGENT, AGENT, "--notify-fd", fd_arg, "--fallback", (char *)NULL);
		_exit(127);
	}
	close(notify[1]);
	agent_pid = pid;
	/* Registered (or gone) when the pipe reads end of file. */
	p = (struct pollfd){ .fd = notify[0], .events = POLLIN };
	do
		r = poll(&p, 1, AGENT_REGISTER_MS);
	while (r < 0 && errno == EINTR);
	close(notify[0]);
}

int ask_password_begin(sd_bus *bus, bool may_ask)
{
	int r;

	if (!may_ask)
		return 0;
	r = sd_bus_set_allow_interactive_authorization(bus, 1);
	if (r >= 0)
		r = sd_bus_set_method_call_timeout(bus, ACT_TIMEOUT_USEC);
	if (r < 0)
		return r;
	/* Root is not asked; elsewhere than on a terminal nobody could answer. */
	if (geteuid() != 0 && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		agent_start();
	return 0;
}

void ask_password_end(void)
{
	int status;

	if (agent_pid <= 0)
		return;
	kill(agent_pid, SIGTERM);
	while (waitpid(agent_pid, &status, 0) < 0 && errno == EINTR)
		;
	agent_pid = 0;
}
