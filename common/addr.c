/*
 * addr.c: socket addresses as the config writes them.  See addr.h.
 *
 * The forms are the ones users of nginx and HAProxy write, minus host
 * names: "1.2.3.4:80", "[::1]:80" and, where a caller allows it,
 * "unix:/abs/path".  inet_pton() does the address itself; this file only
 * splits the text and checks the port, so that each mistake gets its own
 * message.
 */
#include <sys/types.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>

#include "addr.h"

#define UNIX_PREFIX	"unix:"

/* "65535" and nothing else: digits only, no sign, no spaces, 1..65535. */
static int
parse_port(const char *s, in_port_t *port, const char **err)
{
	unsigned long	 v = 0;
	const char	*p;

	if (*s == '\0') {
		*err = "missing port";
		return -1;
	}
	for (p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			*err = "port is not a number";
			return -1;
		}
		/* Stop counting early: "99999999999999" must not wrap. */
		if (v <= 65535)
			v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > 65535) {
		*err = "port out of range (1-65535)";
		return -1;
	}
	*port = htons((in_port_t)v);
	return 0;
}

/* The length counts the NUL, as Linux and the BSDs expect for bind(2). */
static int
parse_unix(const char *path, struct addr *a, const char **err)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)&a->sa;
	size_t			 len = strlen(path);

	if (path[0] != '/') {
		*err = "unix socket path must be absolute";
		return -1;
	}
	if (len >= sizeof(sun->sun_path)) {
		*err = "unix socket path too long";
		return -1;
	}
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

/* "[v6]:port": the brackets keep the port apart from the address. */
static int
parse_ipv6(const char *text, struct addr *a, const char **err)
{
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&a->sa;
	char			 host[INET6_ADDRSTRLEN];
	const char		*end;
	size_t			 len;

	if ((end = strchr(text, ']')) == NULL) {
		*err = "missing ']' after IPv6 address";
		return -1;
	}
	len = (size_t)(end - (text + 1));
	if (len == 0 || len >= sizeof(host)) {
		*err = "not an IPv6 address";
		return -1;
	}
	memcpy(host, text + 1, len);
	host[len] = '\0';
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
		*err = "not an IPv6 address";
		return -1;
	}
	if (end[1] != ':') {
		*err = end[1] == '\0' ? "missing port" :
		    "expected ':' and a port after ']'";
		return -1;
	}
	if (parse_port(end + 2, &sin6->sin6_port, err) == -1)
		return -1;
	sin6->sin6_family = AF_INET6;
	a->len = sizeof(*sin6);
	return 0;
}

/* "a.b.c.d:port": inet_pton() takes only the four dotted decimals, so
   "1.2.3" or "010.0.0.1" (octal to some parsers) are refused. */
static int
parse_ipv4(const char *text, struct addr *a, const char **err)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a->sa;
	char			 host[INET_ADDRSTRLEN];
	const char		*colon;
	size_t			 len;

	if ((colon = strrchr(text, ':')) == NULL) {
		*err = "missing port";
		return -1;
	}
	if (strchr(text, ':') != colon) {
		/* Two colons: an IPv6 address someone forgot to bracket. */
		*err = "IPv6 addresses need brackets: [::1]:80";
		return -1;
	}
	len = (size_t)(colon - text);
	if (len == 0) {
		*err = "missing address (0.0.0.0 or [::] means any)";
		return -1;
	}
	if (len < sizeof(host)) {
		memcpy(host, text, len);
		host[len] = '\0';
	}
	if (len >= sizeof(host) ||
	    inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		*err = "not an IPv4 or IPv6 address (host names are not "
		    "resolved)";
		return -1;
	}
	if (parse_port(colon + 1, &sin->sin_port, err) == -1)
		return -1;
	sin->sin_family = AF_INET;
	a->len = sizeof(*sin);
	return 0;
}

/* addr_parse(): see addr.h.  The whole of a is zeroed first, so that
   addr_equal() may compare what it holds. */
int
addr_parse(const char *text, int allow_unix, struct addr *a,
    const char **err)
{
	memset(a, 0, sizeof(*a));
	if (text == NULL || *text == '\0') {
		*err = "empty address";
		return -1;
	}
	if (strncmp(text, UNIX_PREFIX, sizeof(UNIX_PREFIX) - 1) == 0) {
		if (!allow_unix) {
			*err = "unix sockets are not allowed here";
			return -1;
		}
		return parse_unix(text + sizeof(UNIX_PREFIX) - 1, a, err);
	}
	if (text[0] == '[')
		return parse_ipv6(text, a, err);
	return parse_ipv4(text, a, err);
}

/* addr_format(): see addr.h.  The output parses back to the same. */
void
addr_format(const struct addr *a, char *buf, size_t size)
{
	const struct sockaddr_un	*sun;
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	char				 host[INET6_ADDRSTRLEN];

	if (size == 0)
		return;
	switch (a->sa.ss_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)&a->sa;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)&a->sa;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	case AF_UNIX:
		sun = (const struct sockaddr_un *)&a->sa;
		snprintf(buf, size, UNIX_PREFIX "%.*s",
		    (int)sizeof(sun->sun_path), sun->sun_path);
		break;
	default:
		snprintf(buf, size, "?");
		break;
	}
}

/* addr_format_ip(): see addr.h. */
void
addr_format_ip(const struct sockaddr *sa, char *buf, size_t size)
{
	const struct sockaddr_in6	*sin6;
	const void			*ip;

	if (size == 0)
		return;
	switch (sa->sa_family) {
	case AF_INET:
		ip = &((const struct sockaddr_in *)sa)->sin_addr;
		if (inet_ntop(AF_INET, ip, buf, (socklen_t)size) == NULL)
			snprintf(buf, size, "?");
		break;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		/* An IPv4 client of a dual-stack socket is logged as the
		   IPv4 address it is, not as ::ffff:1.2.3.4. */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			ip = &sin6->sin6_addr.s6_addr[12];
			if (inet_ntop(AF_INET, ip, buf, (socklen_t)size) ==
			    NULL)
				snprintf(buf, size, "?");
			break;
		}
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
		    (socklen_t)size) == NULL)
			snprintf(buf, size, "?");
		break;
	case AF_UNIX:
		snprintf(buf, size, "unix:");
		break;
	default:
		snprintf(buf, size, "?");
		break;
	}
}

/* addr_equal(): see addr.h.  Field by field, not memcmp(): the padding
   and sin6_flowinfo say nothing about where a socket is bound. */
bool
addr_equal(const struct addr *a, const struct addr *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;
	const struct sockaddr_un	*au, *bu;

	if (a->sa.ss_family != b->sa.ss_family)
		return false;
	switch (a->sa.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)&a->sa;
		b4 = (const struct sockaddr_in *)&b->sa;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)&a->sa;
		b6 = (const struct sockaddr_in6 *)&b->sa;
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	case AF_UNIX:
		au = (const struct sockaddr_un *)&a->sa;
		bu = (const struct sockaddr_un *)&b->sa;
		return strncmp(au->sun_path, bu->sun_path,
		    sizeof(au->sun_path)) == 0;
	default:
		return false;
	}
}

/* addr_net_parse(): see addr.h. */
int
addr_net_parse(const char *text, struct addr_net *n, const char **err)
{
	char		 host[INET6_ADDRSTRLEN + 1];
	const char	*slash = strchr(text, '/');
	size_t		 len = slash != NULL ? (size_t)(slash - text) :
			    strlen(text);
	unsigned long	 prefix;
	unsigned	 bits, i;
	char		*end;

	memset(n, 0, sizeof(*n));
	if (len == 0 || len >= sizeof(host)) {
		*err = "not an IPv4 or IPv6 address";
		return -1;
	}
	memcpy(host, text, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, n->bytes) == 1) {
		n->family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, host, n->bytes) == 1) {
		n->family = AF_INET6;
		bits = 128;
	} else {
		*err = "not an IPv4 or IPv6 address";
		return -1;
	}
	n->prefix = bits;
	if (slash != NULL) {
		prefix = strtoul(slash + 1, &end, 10);
		if (slash[1] < '0' || slash[1] > '9' || *end != '\0' ||
		    prefix > bits) {
			*err = "bad prefix length";
			return -1;
		}
		n->prefix = (unsigned)prefix;
	}
	/* Host bits set ("10.1.2.3/8") are a typo as often as not: the
	   network is what the prefix says, so keep only that. */
	for (i = 0; i < 16; i++) {
		if (i * 8 >= n->prefix)
			n->bytes[i] = 0;
		else if (i * 8 + 8 > n->prefix)
			n->bytes[i] &= (uint8_t)(0xff << (8 - (n->prefix - i * 8)));
	}
	return 0;
}

/* addr_net_match(): see addr.h. */
bool
addr_net_match(const struct addr_net *n, const struct sockaddr *sa)
{
	static const uint8_t	 mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	const uint8_t		*ip;
	int			 family = sa->sa_family;
	unsigned		 full, rest;

	if (family == AF_INET)
		ip = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	else if (family == AF_INET6) {
		ip = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (n->family == AF_INET && memcmp(ip, mapped, 12) == 0) {
			ip += 12;
			family = AF_INET;
		}
	} else
		return false;
	if (family != n->family)
		return false;
	full = n->prefix / 8;
	rest = n->prefix % 8;
	if (memcmp(ip, n->bytes, full) != 0)
		return false;
	return rest == 0 ||
	    (ip[full] & (uint8_t)(0xff << (8 - rest))) == n->bytes[full];
}
