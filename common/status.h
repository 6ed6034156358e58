/*
 * status.h: the reason phrase of each HTTP status code that Portico sends
 * or relays (RFC 9110 15), for the status lines and error pages it writes.
 */
#ifndef STATUS_H
#define STATUS_H

/* status_reason(): the reason phrase of status, or "" if unknown. */
const char *status_reason(int status);

#endif /* STATUS_H */
