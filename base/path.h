/* path: lexical operations on relative and absolute paths (no file system access). */
#ifndef KILN_PATH_H
#define KILN_PATH_H

/* "a/./b/../c/" -> "a/c"; "" -> "."; keeps leading ".." of a relative path. Caller frees. */
char *path_normalize(const char *p);
/* dir joined with p (p unchanged when absolute), normalized. Caller frees. */
char *path_join(const char *dir, const char *p);
/* The directory part: "a/b.img" -> "a", "b.img" -> ".". Caller frees. */
char *path_dirname(const char *p);
/* p relative to base (both relative to the same directory, or both absolute). Caller frees. */
char *path_relative(const char *base, const char *p);
/*
 * A path of the plan on the build machine: p itself when absolute or when root is NULL
 * or "", else root/p, not normalized (a trailing slash of p is kept: to copy, it means
 * the directory's contents). Caller frees.
 */
char *path_from_root(const char *root, const char *p);

#endif
