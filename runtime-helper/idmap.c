/*
 * This process's user namespace, as /proc/self/uid_map and gid_map show it: rootless mode
 * (userns-cmd.c) or an unprivileged container maps fewer ids than the host, and the kernel
 * refuses what names an unmapped id (devpts gid=, ping_group_range) or trusted.* xattrs.
 */
#include <stdio.h>

#include "helper.h"

/* The host's user namespace maps every id to itself: "0 0 4294967295". */
int in_user_namespace(void)
{
    unsigned long inside, outside, count;
    FILE *f = fopen("/proc/self/uid_map", "re");
    if (!f) return 0;
    int host = fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 && outside == 0 && count == 4294967295UL;
    fclose(f);
    return !host;
}

unsigned long highest_mapped_gid(void)
{
    unsigned long top = 0, inside, outside, count;
    FILE *f = fopen("/proc/self/gid_map", "re");
    while (f && fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3)
        if (count > 0 && inside + count - 1 > top) top = inside + count - 1;
    if (f) fclose(f);
    return top;
}
