/*
 * `tsbuild-helper --mount FSTYPE SOURCE TARGET OPTIONS` and `--umount TARGET [lazy]`: the
 * mounts the executor makes outside containers (tmpfs for RUN uppers and layer dirs,
 * read-only overlay views; executor/mount.ts). The same as mount(8)/umount(8) for these
 * cases, without their start-up: util-linux's mount reads its tables and locales first,
 * this static binary starts at once.
 * OPTIONS are comma-separated: `ro`, `nodev`, `nosuid`, `noexec` are mount flags (a step's
 * private tmpfs for secrets takes the last three), the rest is the filesystem's data
 * (lowerdir=…, size=…, mode=…). Exit 0, or 32 (mount(8)'s "mount failure") with one
 * line on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "helper.h"

#define EXIT_MOUNT_FAILURE 32

/* The mount of `--mount` (argv after it); 0, or EXIT_MOUNT_FAILURE with the reason in err. */
int do_mount(int argc, char **argv, char *err, size_t errlen)
{
    if (argc != 4) {
        snprintf(err, errlen, "usage: tsbuild-helper --mount FSTYPE SOURCE TARGET OPTIONS");
        return EXIT_MOUNT_FAILURE;
    }
    const char *fstype = argv[0], *source = argv[1], *target = argv[2];
    size_t n = strlen(argv[3]);
    char *data = calloc(n + 1, 1);
    char *opts = strdup(argv[3]);
    if (!data || !opts) {
        free(data);
        free(opts);
        snprintf(err, errlen, "mount %s on %s: %s", fstype, target, strerror(ENOMEM));
        return EXIT_MOUNT_FAILURE;
    }
    unsigned long flags = 0;
    for (char *save = NULL, *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        unsigned long flag = !strcmp(o, "ro")       ? MS_RDONLY
                             : !strcmp(o, "nodev")  ? MS_NODEV
                             : !strcmp(o, "nosuid") ? MS_NOSUID
                             : !strcmp(o, "noexec") ? MS_NOEXEC
                             : !strcmp(o, "bind")   ? MS_BIND
                                                    : 0;
        if (flag) {
            flags |= flag;
            continue;
        }
        if (*data) strcat(data, ",");
        strcat(data, o);
    }
    int rc = mount(source, target, fstype, flags, data) < 0 ? EXIT_MOUNT_FAILURE : 0;
    if (rc) snprintf(err, errlen, "mount %s on %s: %s", fstype, target, strerror(errno));
    free(data);
    free(opts);
    return rc;
}

/* The unmount of `--umount` (argv after it); 0, or EXIT_MOUNT_FAILURE with the reason in err. */
int do_umount(int argc, char **argv, char *err, size_t errlen)
{
    if (argc < 1 || argc > 2 || (argc == 2 && strcmp(argv[1], "lazy") != 0)) {
        snprintf(err, errlen, "usage: tsbuild-helper --umount TARGET [lazy]");
        return EXIT_MOUNT_FAILURE;
    }
    if (umount2(argv[0], argc == 2 ? MNT_DETACH : 0) < 0) {
        snprintf(err, errlen, "umount %s: %s", argv[0], strerror(errno));
        return EXIT_MOUNT_FAILURE;
    }
    return 0;
}

static int report(int rc, const char *err)
{
    if (rc) fprintf(stderr, "%s\n", err);
    return rc;
}

int mount_main(int argc, char **argv)
{
    char err[512];
    return report(do_mount(argc, argv, err, sizeof err), err);
}

int umount_main(int argc, char **argv)
{
    char err[512];
    return report(do_umount(argc, argv, err, sizeof err), err);
}
