/*
 * outpaths.c - every output path checked against the inputs and against each
 * other, and proven writable, before a packet is read (outpaths.h). Files are
 * told apart by device and inode (stat() follows symbolic links, and hard
 * links share the inode); a name that does not exist yet by its directory's
 * device and inode and its last component.
 */
#include "outpaths.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a path names, as far as overwriting goes. */
struct ident {
	const char *option; /* for messages: "-r", "-o", ..., or "standard output" */
	const char *path;
	bool exists;
	bool counts;        /* a regular file, a directory or a name not created yet */
	dev_t dev;
	ino_t ino;          /* of the file; of its directory when !exists */
	char name[NAME_MAX + 1]; /* when !exists: the name in that directory */
};

/* The directory and last component of a path that does not exist (yet). */
static void ident_entry(struct ident *id)
{
	char a[PATH_MAX], b[PATH_MAX];
	snprintf(a, sizeof(a), "%s", id->path);
	snprintf(b, sizeof(b), "%s", id->path);
	struct stat sb;
	id->counts = stat(dirname(a), &sb) == 0;
	id->dev = sb.st_dev;
	id->ino = sb.st_ino;
	snprintf(id->name, sizeof(id->name), "%s", basename(b));
}

/*
 * fd >= 0: standard input or output, by its descriptor. An input that does
 * not exist clashes with nothing (opening it will fail and say so).
 */
static struct ident ident_of(const char *option, const char *path, int fd, bool input)
{
	struct ident id = { .option = option, .path = path };
	struct stat sb;
	id.exists = fd >= 0 ? fstat(fd, &sb) == 0 : stat(path, &sb) == 0;
	if (!id.exists) {
		if (fd < 0 && !input)
			ident_entry(&id);
		return id;
	}
	id.counts = S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode);
	id.dev = sb.st_dev;
	id.ino = sb.st_ino;
	return id;
}

static bool ident_same(const struct ident *a, const struct ident *b)
{
	return a->counts && b->counts && a->exists == b->exists && a->dev == b->dev &&
	       a->ino == b->ino && (a->exists || strcmp(a->name, b->name) == 0);
}

static const char *ident_name(const struct ident *id, char *buf, size_t n)
{
	if (strcmp(id->option, "standard output") == 0)
		return "standard output";
	if (strcmp(id->path, "-") == 0)
		return "standard input";
	snprintf(buf, n, "%s '%s'", id->option, id->path);
	return buf;
}

static bool outpaths_clash(const struct ident *out, const struct ident *other, bool input)
{
	if (!ident_same(out, other))
		return false;
	char a[PATH_MAX + 32], b[PATH_MAX + 32];
	if (input)
		fprintf(stderr, "popsift: refusing to write %s: it is the capture %s (the same file); nothing was read or written\n",
			ident_name(out, a, sizeof(a)), ident_name(other, b, sizeof(b)));
	else
		fprintf(stderr, "popsift: refusing to write %s and %s: they are the same file; nothing was read or written\n",
			ident_name(other, b, sizeof(b)), ident_name(out, a, sizeof(a)));
	return true;
}

bool outpaths_distinct(const char *const *inputs, size_t n_inputs, const struct outpath *outs,
		       size_t n_outs)
{
	struct ident *ids = calloc(n_inputs + n_outs + 1, sizeof(*ids));
	if (!ids)
		return false;
	size_t n = 0;
	for (size_t i = 0; i < n_inputs; i++)
		ids[n++] = ident_of("-r", inputs[i], strcmp(inputs[i], "-") == 0 ? STDIN_FILENO : -1,
				    true);
	bool ok = true;
	for (size_t k = 0; k < n_outs && ok; k++) {
		if (!outs[k].path)
			continue;
		bool std_out = outs[k].kind == OUTPATH_EVENTS && strcmp(outs[k].path, "-") == 0;
		struct ident me = ident_of(std_out ? "standard output" : outs[k].option, outs[k].path,
					   std_out ? STDOUT_FILENO : -1, false);
		for (size_t i = 0; i < n && ok; i++)
			ok = !outpaths_clash(&me, &ids[i], i < n_inputs);
		ids[n++] = me;
	}
	free(ids);
	return ok;
}

/* ---- writable ----------------------------------------------------------- */

static bool outpaths_fail(const struct outpath *o, const char *why)
{
	fprintf(stderr, "popsift: cannot write %s '%s': %s; nothing was analysed\n", o->option, o->path,
		why);
	return false;
}

/*
 * Opens for writing, creating but never truncating: the file is written for
 * real later. A FIFO or a device is left to that later open (probing a FIFO
 * would wait for its reader).
 */
static bool outpaths_file(const struct outpath *o)
{
	bool private = o->kind == OUTPATH_PRIVATE;
	struct stat sb;
	if (private && lstat(o->path, &sb) == 0 && S_ISLNK(sb.st_mode))
		return outpaths_fail(o, "it is a symbolic link (refused)");
	if (stat(o->path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return S_ISDIR(sb.st_mode) ? outpaths_fail(o, "it is a directory") : true;
	int fd = open(o->path, O_WRONLY | O_CREAT | O_CLOEXEC | (private ? O_NOFOLLOW : 0),
		      private ? 0600 : 0666);
	if (fd < 0)
		return outpaths_fail(o, strerror(errno));
	close(fd);
	return true;
}

/* -x: the directory made if missing, and a file created in it and removed again. */
static bool outpaths_dir(const struct outpath *o)
{
	if (mkdir(o->path, 0700) != 0 && errno != EEXIST)
		return outpaths_fail(o, strerror(errno));
	/* Without trailing '/': with one, open() would follow a symbolic link. */
	char path[PATH_MAX];
	size_t n = strlen(o->path);
	while (n > 1 && o->path[n - 1] == '/')
		n--;
	snprintf(path, sizeof(path), "%.*s", (int)n, o->path);
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		struct stat sb;
		bool link = lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode);
		return outpaths_fail(o, link ? "it is a symbolic link (refused: give the real directory)"
					     : strerror(errno));
	}
	char probe[64];
	snprintf(probe, sizeof(probe), ".popsift-probe-%ld", (long)getpid());
	int fd = openat(dfd, probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int err = errno;
	if (fd >= 0) {
		close(fd);
		unlinkat(dfd, probe, 0);
	}
	close(dfd);
	return fd >= 0 || outpaths_fail(o, strerror(err));
}

bool outpaths_writable(const struct outpath *outs, size_t n_outs)
{
	for (size_t i = 0; i < n_outs; i++) {
		const struct outpath *o = &outs[i];
		if (!o->path || (o->kind == OUTPATH_EVENTS && strcmp(o->path, "-") == 0))
			continue;
		if (!(o->kind == OUTPATH_DIR ? outpaths_dir(o) : outpaths_file(o)))
			return false;
	}
	return true;
}
