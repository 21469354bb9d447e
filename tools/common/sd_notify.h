/* systemd's readiness protocol (sd_notify(3)) by hand, without libsystemd:
 * one datagram of "KEY=VALUE" lines to the AF_UNIX socket NOTIFY_SOCKET
 * names (a path, or an abstract name after '@'). Nothing happens when the
 * variable is unset (not started by systemd with Type=notify). */
#ifndef CERTA_TOOLS_SD_NOTIFY_H
#define CERTA_TOOLS_SD_NOTIFY_H

/* Sends state ("READY=1\nSTATUS=..."); 0 sent or not asked for, -1 failed. */
int sd_notify_send(const char *state);
/* "RELOADING=1" with MONOTONIC_USEC (what Type=notify-reload expects). */
int sd_notify_reloading(void);

#endif
