/*
 * addr.h: socket addresses as the config writes them, parsed and printed.
 *
 *   1.2.3.4:80   [::1]:80   [::]:443   unix:/run/app.sock
 *
 * Host names are not resolved: a proxy that resolves at start-up serves a
 * stale address for months; addresses are literal.
 */
#ifndef ADDR_H
#define ADDR_H

#include <sys/socket.h>

#include "pt.h"

#define ADDR_TEXT_MAX	128	/* "[v6]:port" or "unix:/path" + NUL */

struct addr {
	struct sockaddr_storage	sa;
	socklen_t		len;	/* bytes of sa in use */
};

/*
 * addr_parse(): fill a from text.  allow_unix permits "unix:/path".
 * Returns 0, or -1 with *err set to a static message naming what is wrong
 * ("missing port", "port out of range", "not an IPv4 or IPv6 address",
 * "unix socket path too long", ...).
 */
int	addr_parse(const char *text, int allow_unix, struct addr *a,
	    const char **err);

/* addr_format(): print a as the config writes it ("1.2.3.4:80"). */
void	addr_format(const struct addr *a, char *buf, size_t size);

/* addr_format_ip(): only the host part, as the access log writes it. */
void	addr_format_ip(const struct sockaddr *sa, char *buf, size_t size);

/* addr_equal(): same family, address and port (or path). */
bool	addr_equal(const struct addr *a, const struct addr *b);

/* A network: "10.0.0.0/8", "::1", "fe80::/10" (no prefix: one host). */
struct addr_net {
	int		 family;	/* AF_INET or AF_INET6 */
	uint8_t		 bytes[16];	/* the address, host bits zero */
	unsigned	 prefix;	/* bits that must match */
};

/* addr_net_parse(): fill n from text; 0, or -1 with *err set. */
int	addr_net_parse(const char *text, struct addr_net *n, const char **err);

/*
 * addr_net_match(): whether sa is in n.  An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) matches as the IPv4 address it holds.
 */
bool	addr_net_match(const struct addr_net *n, const struct sockaddr *sa);

#endif /* ADDR_H */
