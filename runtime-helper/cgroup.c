/*
 * Resource limits: the container's pid 1 joins the cgroup dirs that TypeScript made and
 * filled with limits (executor/cgroups.ts), before it mounts anything or execs, so every
 * process of the container starts inside them. The helper itself stays outside, and
 * removes the dirs once the container is gone (also for `run -d`, where tsbuild is gone).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helper.h"

/* Writing "0" to cgroup.procs moves the writer itself (v1 and v2), whatever its pid ns. */
void cgroup_join(const struct spec *spec)
{
    char path[4200];
    for (int i = 0; i < spec->n_cgroups; i++) {
        snprintf(path, sizeof path, "%s/cgroup.procs", spec->cgroups[i]);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0) fail(EXIT_SETUP, "cgroup join", errno, spec->cgroups[i]);
        if (write(fd, "0", 1) != 1) fail(EXIT_SETUP, "cgroup join", errno, spec->cgroups[i]);
        close(fd);
    }
}

/* Best effort: the container's processes are all reaped once its pid 1 is; tsbuild retries. */
void cgroup_remove(const struct spec *spec)
{
    for (int i = 0; i < spec->n_cgroups; i++) {
        for (int tries = 0; tries < 20 && rmdir(spec->cgroups[i]) < 0 && errno == EBUSY; tries++) usleep(5000);
    }
}
