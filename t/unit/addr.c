/*
 * addr.c: unit tests of common/addr.c, printing TAP.
 *
 * Every form the config may write, every mistake addr_parse() names, and
 * the round trip through addr_format().
 */
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>

#include "addr.h"
#include "tap.h"

/* Good addresses: parsed, the family and the length, formatted back. */
static void
test_good(void)
{
	static const struct {
		const char	*text;
		int		 family;
		const char	*formatted;	/* NULL: the same as text */
	} cases[] = {
		{ "1.2.3.4:80", AF_INET, NULL },
		{ "0.0.0.0:65535", AF_INET, NULL },
		{ "127.0.0.1:1", AF_INET, NULL },
		{ "[::]:443", AF_INET6, NULL },
		{ "[::1]:80", AF_INET6, NULL },
		{ "[2001:DB8::1]:8080", AF_INET6, "[2001:db8::1]:8080" },
		{ "[::ffff:1.2.3.4]:80", AF_INET6, NULL },
		{ "1.2.3.4:0080", AF_INET, "1.2.3.4:80" },
		{ "unix:/run/app.sock", AF_UNIX, NULL },
	};
	struct addr	 a;
	const char	*err = NULL;
	char		 buf[ADDR_TEXT_MAX];
	size_t		 i;
	int		 rc;

	for (i = 0; i < PT_NELEM(cases); i++) {
		rc = addr_parse(cases[i].text, 1, &a, &err);
		ok(rc == 0, "parse %s", cases[i].text);
		if (rc != 0) {
			diag("  error: %s", err);
			continue;
		}
		ok(a.sa.ss_family == cases[i].family, "%s: family",
		    cases[i].text);
		ok(a.len == (cases[i].family == AF_INET ?
		    sizeof(struct sockaddr_in) : cases[i].family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) :
		    offsetof(struct sockaddr_un, sun_path) +
		    strlen(cases[i].text) - 5 + 1), "%s: length",
		    cases[i].text);
		addr_format(&a, buf, sizeof(buf));
		is_str(buf, cases[i].formatted ? cases[i].formatted :
		    cases[i].text, "format it back");
	}
}

/* The bytes themselves, not only the text. */
static void
test_values(void)
{
	struct addr		 a;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a.sa;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&a.sa;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&a.sa;
	const char		*err;

	addr_parse("10.1.2.3:8080", 0, &a, &err);
	ok(ntohs(sin->sin_port) == 8080, "IPv4 port in network order");
	ok(ntohl(sin->sin_addr.s_addr) == 0x0a010203, "IPv4 address");
	addr_parse("[::1]:443", 0, &a, &err);
	ok(ntohs(sin6->sin6_port) == 443, "IPv6 port in network order");
	ok(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr), "IPv6 address ::1");
	addr_parse("unix:/tmp/s", 1, &a, &err);
	is_str(sun->sun_path, "/tmp/s", "unix path");
}

#define NOT_AN_ADDRESS \
	"not an IPv4 or IPv6 address (host names are not resolved)"

/* Every mistake, with the message that names it. */
static void
test_errors(void)
{
	static char	 longpath[200];
	static const struct {
		const char	*text;
		int		 allow_unix;
		const char	*err;
	} cases[] = {
		{ "", 1, "empty address" },
		{ "1.2.3.4", 0, "missing port" },
		{ "1.2.3.4:", 0, "missing port" },
		{ "1.2.3.4:0", 0, "port out of range (1-65535)" },
		{ "1.2.3.4:65536", 0, "port out of range (1-65535)" },
		{ "1.2.3.4:99999999999999999999", 0,
		    "port out of range (1-65535)" },
		{ "1.2.3.4:8x", 0, "port is not a number" },
		{ "1.2.3.4:-1", 0, "port is not a number" },
		{ "1.2.3.4: 80", 0, "port is not a number" },
		{ ":80", 0, "missing address (0.0.0.0 or [::] means any)" },
		{ "localhost:80", 0, NOT_AN_ADDRESS },
		{ "1.2.3.256:80", 0, NOT_AN_ADDRESS },
		{ "1.2.3:80", 0, NOT_AN_ADDRESS },
		{ "010.0.0.1:80", 0, NOT_AN_ADDRESS },
		{ "::1:80", 0, "IPv6 addresses need brackets: [::1]:80" },
		{ "[::1]", 0, "missing port" },
		{ "[::1", 0, "missing ']' after IPv6 address" },
		{ "[::1]80", 0, "expected ':' and a port after ']'" },
		{ "[]:80", 0, "not an IPv6 address" },
		{ "[zz::1]:80", 0, "not an IPv6 address" },
		{ "[1.2.3.4]:80", 0, "not an IPv6 address" },
		{ "[::1]:0", 0, "port out of range (1-65535)" },
		{ "unix:/run/app.sock", 0,
		    "unix sockets are not allowed here" },
		{ "unix:run/app.sock", 1, "unix socket path must be absolute" },
		{ "unix:", 1, "unix socket path must be absolute" },
		{ longpath, 1, "unix socket path too long" },
	};
	struct addr	 a;
	const char	*err;
	size_t		 i;
	int		 rc;

	snprintf(longpath, sizeof(longpath), "unix:/%0150d", 0);
	for (i = 0; i < PT_NELEM(cases); i++) {
		err = NULL;
		rc = addr_parse(cases[i].text, cases[i].allow_unix, &a, &err);
		ok(rc == -1, "'%.40s' is refused", cases[i].text);
		is_str(err, cases[i].err, "  with its reason");
	}
	err = NULL;
	ok(addr_parse(NULL, 1, &a, &err) == -1 && err != NULL,
	    "NULL is refused");
}

static void
test_equal(void)
{
	static const struct {
		const char	*a, *b;
		bool		 equal;
	} cases[] = {
		{ "1.2.3.4:80", "1.2.3.4:80", true },
		{ "1.2.3.4:80", "1.2.3.4:81", false },
		{ "1.2.3.4:80", "1.2.3.5:80", false },
		{ "[::1]:80", "[0:0::1]:80", true },
		{ "[::1]:80", "[::1]:81", false },
		{ "[::]:80", "0.0.0.0:80", false },
		{ "unix:/a", "unix:/a", true },
		{ "unix:/a", "unix:/b", false },
		{ "unix:/a", "1.2.3.4:80", false },
	};
	struct addr	 a, b;
	const char	*err;
	size_t		 i;

	for (i = 0; i < PT_NELEM(cases); i++) {
		addr_parse(cases[i].a, 1, &a, &err);
		addr_parse(cases[i].b, 1, &b, &err);
		ok(addr_equal(&a, &b) == cases[i].equal &&
		    addr_equal(&b, &a) == cases[i].equal, "%s %s %s",
		    cases[i].a, cases[i].equal ? "==" : "!=", cases[i].b);
	}
}

static void
test_format_ip(void)
{
	static const struct {
		const char	*text, *ip;
	} cases[] = {
		{ "1.2.3.4:80", "1.2.3.4" },
		{ "[2001:db8::7]:80", "2001:db8::7" },
		{ "[::ffff:10.0.0.1]:80", "10.0.0.1" },
		{ "unix:/a", "unix:" },
	};
	struct addr	 a;
	const char	*err;
	char		 buf[ADDR_TEXT_MAX];
	size_t		 i;

	for (i = 0; i < PT_NELEM(cases); i++) {
		addr_parse(cases[i].text, 1, &a, &err);
		addr_format_ip((struct sockaddr *)&a.sa, buf, sizeof(buf));
		is_str(buf, cases[i].ip, "ip of %s", cases[i].text);
	}
}

/* A buffer too small is cut, still NUL-terminated, never overrun. */
static void
test_small_buffers(void)
{
	struct addr	 a;
	const char	*err;
	char		 buf[8];

	memset(buf, 'x', sizeof(buf));
	addr_parse("[2001:db8::1]:8080", 0, &a, &err);
	addr_format(&a, buf, 5);
	ok(strlen(buf) == 4 && buf[5] == 'x', "addr_format cuts at size");
	memset(buf, 'x', sizeof(buf));
	addr_format_ip((struct sockaddr *)&a.sa, buf, 5);
	ok(strlen(buf) < 5 && buf[5] == 'x',
	    "addr_format_ip stays in its size");
	memset(&a, 0, sizeof(a));
	addr_format(&a, buf, sizeof(buf));
	is_str(buf, "?", "an empty address prints '?'");
}

int
main(void)
{
	test_good();
	test_values();
	test_errors();
	test_equal();
	test_format_ip();
	test_small_buffers();
	return done();
}
