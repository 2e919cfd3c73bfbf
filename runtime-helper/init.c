/*
 * tsbuild-init: pid 1 of `run --init`, what docker-init (tini) does for Docker and nothing
 * more. A pid namespace's init gets no signal it has no handler for, and orphans are
 * reparented to it: so it runs the command as its child, forwards the signals a user sends,
 * reaps every child, and exits with the command's status (128+N when signal N killed it).
 * Usage: tsbuild-init -- COMMAND [ARG...]. Built as a binary of its own (not the helper).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int main(int argc, char **argv)
{
    int first = argc > 1 && strcmp(argv[1], "--") == 0 ? 2 : 1;
    if (first >= argc) {
        fprintf(stderr, "tsbuild-init: usage: tsbuild-init -- COMMAND [ARG...]\n");
        return 2;
    }
    /* Blocked, the signals wait in the queue for sigwaitinfo (none is lost before it). */
    sigset_t waited, old;
    sigemptyset(&waited);
    for (size_t i = 0; i < sizeof FORWARDED / sizeof FORWARDED[0]; i++) sigaddset(&waited, FORWARDED[i]);
    sigaddset(&waited, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &waited, &old) < 0) {
        perror("tsbuild-init: sigprocmask");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("tsbuild-init: fork");
        return 1;
    }
    if (child == 0) {
        /* Its own process group owning the terminal, as tini does: a ^C reaches it once. */
        setpgid(0, 0);
        if (isatty(STDIN_FILENO)) {
            signal(SIGTTOU, SIG_IGN);
            tcsetpgrp(STDIN_FILENO, getpid());
            signal(SIGTTOU, SIG_DFL);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        execvp(argv[first], argv + first);
        fprintf(stderr, "tsbuild-init: exec %s: %s\n", argv[first], strerror(errno));
        _exit(errno == ENOENT ? 127 : 126);
    }
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&waited, &info);
        if (sig < 0) {
            if (errno == EINTR) continue;
            perror("tsbuild-init: sigwaitinfo");
            return 1;
        }
        if (sig != SIGCHLD) {
            kill(child, sig);
            continue;
        }
        /* SIGCHLDs merge: reap every child that ended, orphans included. */
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid != child) continue;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    }
}
