/*
 * conffix.h: the fixtures of the config unit tests (config.c and
 * config_errors.c): writing a file into the test's scratch directory, and
 * loading a config text with its error lines collected.  The including
 * file declares `static char tmpdir[]' (a mkdtemp() template, made into a
 * directory before the first test) before it includes this header.
 */
#ifndef CONFFIX_H
#define CONFFIX_H

static inline void
write_file(const char *name, const char *text)
{
	char	 path[256];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "w")) == NULL) {
		printf("Bail out! cannot write %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
}

/*
 * load(): write text to TMPDIR/portico.conf and load it.  The errors
 * are returned in *errs (to free), with TMPDIR/ taken off each line.
 */
static inline struct config *
load(const char *text, char **errs)
{
	struct config	*cf;
	char		 path[256], *buf = NULL, *p, *q;
	size_t		 len = 0, skip;
	FILE		*fp;

	write_file("portico.conf", text);
	snprintf(path, sizeof(path), "%s/portico.conf", tmpdir);
	fp = open_memstream(&buf, &len);
	cf = config_load(path, fp);
	fclose(fp);
	skip = strlen(tmpdir) + 1;
	for (p = q = buf; *p != '\0'; ) {
		if (strncmp(p, tmpdir, skip - 1) == 0 && p[skip - 1] == '/')
			p += skip;
		while (*p != '\0' && (*q++ = *p++) != '\n')
			;
	}
	*q = '\0';
	*errs = buf;
	return cf;
}

#define LISTEN	"listeners = ( { address = \"127.0.0.1:8080\"; } );\n"
#define SITE	"sites = ( { hosts = [ \"*\" ]; routes = ( { path = \"/\";" \
		" return = { status = 200; }; } ); } );\n"

#endif /* CONFFIX_H */
