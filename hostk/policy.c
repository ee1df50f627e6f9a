/* Policy.  A policy file amends the trap table, the guests' view of paths and
 * their limits, one rule per line:
 *
 *   syscall NAME... allow|trap|emulate|kill     NAME may be *: every syscall
 *   syscall NAME... deny [ERRNO]               (EPERM unless ERRNO is given)
 *   path allow|readonly|hide PREFIX...
 *   limit tasks|cpu|as|nofile|fsize VALUE|unlimited   (K, M, G suffixes; cpu in s)
 *   include NAME                               a built-in policy, amended by what follows
 *
 * "allow" puts a syscall on the fast path (the filter lets it through); it
 * is refused for syscalls whose hostk handler keeps the guests confined or
 * scheduled.  "trap" makes a fast one trap (to be traced) and run; "emulate"
 * gives a syscall back to its handler.  The dispositions compile into the
 * filter (filter.c) and the trap path through sys_disp(), the paths into
 * the mount namespace (ns.c), the limits into rlimits and hostk's own CPU
 * budget.  Errors: "FILE:LINE:COL: message". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "util.h"

static uint8_t override_disp[NR_SYSCALLS];	/* D_NONE: no override */
static uint16_t override_err[NR_SYSCALLS];
struct path_rule path_rules[MAX_PATH_RULES];
int npath_rules;
struct limits limits;

static const char default_policy[] =
	"# hostk's default: the trap table as it is, and a bound on tasks, so that\n"
	"# a fork bomb stops at EAGAIN instead of taking the host's pids.\n"
	"limit tasks 4096\n";

static const char strict_policy[] =
	"# For a hostile or untrusted program: no access to other processes'\n"
	"# memory, no odd ABIs, tight limits, the host's private and system files\n"
	"# out of sight or out of reach.\n"
	"include default\n"
	"syscall process_vm_readv process_vm_writev pidfd_getfd kcmp ptrace deny\n"
	"syscall userfaultfd perf_event_open personality modify_ldt memfd_secret deny\n"
	"syscall socket socketpair deny EACCES\n"
	"limit tasks 256\n"
	"limit nofile 1024\n"
	"limit as 4G\n"
	"limit fsize 1G\n"
	"path hide /root /home /run/user\n"
	"path readonly /etc /usr /boot /opt /var /srv\n";

static const char trace_all_policy[] =
	"# Every syscall traps, so that --trace shows each one (slower).\n"
	"include default\n"
	"syscall * trap\n";

static const char permissive_policy[] =
	"# What the host alone would refuse, and no more: io_uring and the kernel\n"
	"# keyrings are allowed, there is no task limit.\n"
	"include default\n"
	"syscall io_uring_setup io_uring_enter io_uring_register allow\n"
	"syscall keyctl add_key request_key allow\n"
	"limit tasks unlimited\n";

static const struct {
	const char *name, *text;
} builtins[] = {
	{ "default", default_policy },
	{ "strict", strict_policy },
	{ "trace-all", trace_all_policy },
	{ "permissive", permissive_policy },
};

const char *const policy_names[] = { "default", "strict", "trace-all", "permissive", NULL };

const char *policy_builtin(const char *name)
{
	for (size_t i = 0; i < NELEM(builtins); i++)
		if (!strcmp(builtins[i].name, name))
			return builtins[i].text;
	return NULL;
}

void policy_reset(void)
{
	memset(override_disp, 0, sizeof override_disp);
	memset(override_err, 0, sizeof override_err);
	npath_rules = 0;
	memset(&limits, 0, sizeof limits);
}

enum disp sys_disp(long nr)
{
	if (nr < 0 || nr >= NR_SYSCALLS || !systab[nr].name)
		return D_NONE;
	return override_disp[nr] ? (enum disp)override_disp[nr] : (enum disp)systab[nr].disp;
}

int policy_errno(long nr)
{
	if (nr >= 0 && nr < NR_SYSCALLS && override_err[nr])
		return override_err[nr];
	return nr >= 0 && nr < NR_SYSCALLS && systab[nr].err ? systab[nr].err : EPERM;
}

long sys_lookup(const char *name)
{
	for (long nr = 0; nr < NR_SYSCALLS; nr++)
		if (systab[nr].name && !strcmp(systab[nr].name, name))
			return nr;
	return -1;
}

const char *errno_name(int err)
{
	/* The kernel's restart codes, which a trace sees at exit stops. */
	static const char *const restart[] = { "ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND",
					       "ENOIOCTLCMD", "ERESTART_RESTARTBLOCK" };
	const char *s = err > 0 ? strerrorname_np(err) : NULL;

	if (err >= 512 && err < 512 + (int)NELEM(restart))
		return restart[err - 512];
	return s ? s : "E?";
}

int errno_lookup(const char *name)
{
	char *end;
	long v = strtol(name, &end, 10);

	if (*name && !*end)
		return v > 0 && v < 4096 ? (int)v : -1;
	for (int e = 1; e < 4096; e++) {
		const char *s = strerrorname_np(e);

		if (s && !strcmp(s, name))
			return e;
	}
	return -1;
}

static void set_disp(long nr, enum disp d, int err)
{
	override_disp[nr] = (uint8_t)d;
	override_err[nr] = (uint16_t)err;
}

int policy_need_trap(const char *name)
{
	long nr = sys_lookup(name);

	if (nr < 0)
		return -1;
	if (sys_disp(nr) == D_FAST)
		set_disp(nr, D_CHECK, 0);
	return 0;
}

int policy_set(const char *spec, enum disp d)
{
	char name[64];
	const char *eq = strchr(spec, '=');
	size_t len = eq ? (size_t)(eq - spec) : strlen(spec);
	long nr;
	int err = 0;

	if (len >= sizeof name)
		return -1;
	memcpy(name, spec, len);
	name[len] = 0;
	nr = sys_lookup(name);
	if (nr < 0)
		return -1;
	if (eq && (d != D_DENY || (err = errno_lookup(eq + 1)) < 0))
		return -1;
	set_disp(nr, d, err);
	return 0;
}

/* The parser: a line at a time, words split on blanks, each word's column
 * kept for the message. */
struct parse {
	const char *file;
	int line, depth;
	char *err;
	size_t errlen;
};

struct word {
	const char *s;
	int col;
};

static int perr(struct parse *p, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(struct parse *p, int col, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d:%d: %s", p->file, p->line, col, msg);
	return -1;
}

/* A rule for the syscall at nr ("allow", "deny EACCES"...). */
static int syscall_rule(struct parse *p, const struct word *name, long nr, const struct word *verb, const char *eno)
{
	const struct sysent *e = &systab[nr];
	bool handled = e->disp == D_CHECK || e->disp == D_EMULATE;
	const char *v = verb->s;
	int err = 0;

	if (!strcmp(v, "allow")) {
		if (handled)
			return name->s[0] == '*' ? 0 : perr(p, name->col, "%s needs hostk's handler (%s): it may be denied, "
						    "killed or traced, not allowed", e->name, e->note);
		set_disp(nr, D_FAST, 0);
	} else if (!strcmp(v, "trap")) {
		/* A handled or refused syscall traps already. */
		if (e->disp == D_FAST)
			set_disp(nr, D_TRAP, 0);
	} else if (!strcmp(v, "emulate")) {
		if (!handled)
			return name->s[0] == '*' ? 0 : perr(p, name->col, "%s has no emulation in hostk", e->name);
		set_disp(nr, (enum disp)e->disp, 0);
	} else if (!strcmp(v, "kill")) {
		set_disp(nr, D_KILL, 0);
	} else if (!strcmp(v, "deny")) {
		if (eno && (err = errno_lookup(eno)) < 0)
			return perr(p, verb->col + (int)strlen(v) + 1, "unknown errno '%s'", eno);
		set_disp(nr, D_DENY, err);
	} else {
		return perr(p, verb->col, "unknown disposition '%s' (allow, trap, emulate, deny, kill)", v);
	}
	return 0;
}

static int do_syscalls(struct parse *p, struct word *w, int n)
{
	int verb = n - 1;
	const char *eno = NULL;

	if (n >= 3 && !strcmp(w[n - 2].s, "deny")) {
		verb = n - 2;
		eno = w[n - 1].s;
	}
	if (verb < 2)
		return perr(p, n > 1 ? w[1].col : w[0].col, "syscall wants names and a disposition");
	for (int i = 1; i < verb; i++) {
		long nr = sys_lookup(w[i].s);

		if (!strcmp(w[i].s, "*")) {
			/* Every syscall, but what the table denies stays denied
			 * unless the rule denies or kills too. */
			bool harder = !strcmp(w[verb].s, "deny") || !strcmp(w[verb].s, "kill");

			for (nr = 0; nr < NR_SYSCALLS; nr++)
				if (systab[nr].name && (harder || systab[nr].disp == D_FAST || systab[nr].disp == D_CHECK ||
							systab[nr].disp == D_EMULATE) &&
				    syscall_rule(p, &w[i], nr, &w[verb], eno) < 0)
					return -1;
			continue;
		}
		if (nr < 0)
			return perr(p, w[i].col, "unknown syscall '%s'", w[i].s);
		if (syscall_rule(p, &w[i], nr, &w[verb], eno) < 0)
			return -1;
	}
	return 0;
}

static int do_path(struct parse *p, struct word *w, int n)
{
	static const char *const kinds[NR_PATH_KINDS] = { "allow", "readonly", "hide" };
	int k;

	if (n < 3)
		return perr(p, w[0].col, "path wants allow, readonly or hide and prefixes");
	for (k = 0; k < NR_PATH_KINDS && strcmp(w[1].s, kinds[k]); k++)
		;
	if (k == NR_PATH_KINDS)
		return perr(p, w[1].col, "unknown path rule '%s' (allow, readonly, hide)", w[1].s);
	for (int i = 2; i < n; i++) {
		const char *s = w[i].s;

		if (s[0] != '/' || strstr(s, "/../") || strstr(s, "/./") || !strcmp(s + strlen(s) - 2, "/.") ||
		    (strlen(s) > 2 && !strcmp(s + strlen(s) - 3, "/..")))
			return perr(p, w[i].col, "a path rule wants an absolute path without . or .., not '%s'", s);
		if (strlen(s) >= sizeof path_rules[0].path)
			return perr(p, w[i].col, "path too long");
		if (npath_rules == MAX_PATH_RULES)
			return perr(p, w[i].col, "more than %d path rules", MAX_PATH_RULES);
		path_rules[npath_rules].kind = (enum path_kind)k;
		snprintf(path_rules[npath_rules++].path, sizeof path_rules[0].path, "%s", s);
	}
	return 0;
}

static int do_limit(struct parse *p, struct word *w, int n)
{
	static const struct { const char *name; size_t off; bool bytes; } names[] = {
		{ "tasks", offsetof(struct limits, tasks), false }, { "cpu", offsetof(struct limits, cpu_s), false },
		{ "as", offsetof(struct limits, as), true }, { "nofile", offsetof(struct limits, nofile), false },
		{ "fsize", offsetof(struct limits, fsize), true },
	};
	unsigned long v = 0;
	size_t i;
	char *end;

	if (n != 3)
		return perr(p, n > 1 ? w[1].col : w[0].col, "limit wants a name and a value");
	for (i = 0; i < NELEM(names) && strcmp(w[1].s, names[i].name); i++)
		;
	if (i == NELEM(names))
		return perr(p, w[1].col, "unknown limit '%s' (tasks, cpu, as, nofile, fsize)", w[1].s);
	if (strcmp(w[2].s, "unlimited")) {
		errno = 0;
		v = strtoul(w[2].s, &end, 10);
		if (names[i].bytes && *end && !end[1] && strchr("KMG", *end))
			v <<= *end == 'K' ? 10 : *end == 'M' ? 20 : 30, end++;
		if (errno || *end || w[2].s[0] == '-' || !v)
			return perr(p, w[2].col, "a limit wants a positive number%s or unlimited, not '%s'",
				    names[i].bytes ? " (K, M, G)" : "", w[2].s);
	}
	*(unsigned long *)((char *)&limits + names[i].off) = v;
	return 0;
}

static int parse_text(struct parse *p, char *text);

static int do_include(struct parse *p, struct word *w, int n)
{
	const char *t = n == 2 ? policy_builtin(w[1].s) : NULL;
	struct parse inner = { w[1].s, 0, p->depth + 1, p->err, p->errlen };
	char *copy;
	int rc;

	if (n != 2)
		return perr(p, w[0].col, "include wants one built-in policy");
	if (!t)
		return perr(p, w[1].col, "no built-in policy '%s' (default, strict, trace-all, permissive)", w[1].s);
	if (p->depth > 4)
		return perr(p, w[1].col, "includes nest too deep");
	copy = xstrdup(t);
	rc = parse_text(&inner, copy);
	free(copy);
	return rc;
}

static int parse_line(struct parse *p, char *line)
{
	struct word w[64];
	int n = 0;
	char *s = line;

	for (;;) {
		s += strspn(s, " \t");
		if (!*s || *s == '#')
			break;
		if (n == (int)NELEM(w))
			return perr(p, (int)(s - line) + 1, "too many words on a line");
		w[n].s = s;
		w[n++].col = (int)(s - line) + 1;
		s += strcspn(s, " \t");
		if (*s)
			*s++ = 0;
	}
	if (!n)
		return 0;
	if (!strcmp(w[0].s, "syscall"))
		return do_syscalls(p, w, n);
	if (!strcmp(w[0].s, "path"))
		return do_path(p, w, n);
	if (!strcmp(w[0].s, "limit"))
		return do_limit(p, w, n);
	if (!strcmp(w[0].s, "include"))
		return do_include(p, w, n);
	return perr(p, w[0].col, "unknown rule '%s' (syscall, path, limit, include)", w[0].s);
}

static int parse_text(struct parse *p, char *text)
{
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		p->line++;
		if (parse_line(p, line) < 0)
			return -1;
	}
	return 0;
}

int policy_load(const char *name, char *err, size_t errlen)
{
	struct parse p = { name, 0, 0, err, errlen };
	const char *builtin = policy_builtin(name);
	char *text;
	size_t len = 0;
	FILE *fp;
	int rc;

	if (builtin) {
		text = xstrdup(builtin);
	} else {
		if (!(fp = fopen(name, "re"))) {
			snprintf(err, errlen, "%s: %s (and no built-in policy has that name)", name, strerror(errno));
			return -1;
		}
		text = NULL;
		if (getdelim(&text, &len, 0, fp) < 0) {
			if (ferror(fp)) {
				snprintf(err, errlen, "%s: %s", name, strerror(errno));
				fclose(fp);
				free(text);
				return -1;
			}
			free(text);
			text = xstrdup("");	/* an empty file */
		}
		fclose(fp);
	}
	rc = parse_text(&p, text);
	free(text);
	return rc;
}
