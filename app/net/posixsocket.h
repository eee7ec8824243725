// What the two epoll socket layers share (the server's, app/server/serversockets_epoll.cpp,
// and the simulator's, app/sim/epolltransport.cpp): non-blocking sends, errno as text, the
// epoll instance. POSIX sockets; the epoll part Linux only.
#pragma once

#include <QString>
#include <QtGlobal>

namespace td::net {

// strerror() as a QString.
QString errnoText(int e);

// Sends data[0, size) on a non-blocking socket until the kernel takes no more (or all is
// sent). Returns the bytes sent; *error is 0, or the errno of a failed send (the peer gone:
// EPIPE / ECONNRESET).
qsizetype sendSome(int fd, const char *data, qsizetype size, int *error);

#ifdef Q_OS_LINUX
// A new epoll instance (close-on-exec), or -1 with *error.
int createEpoll(QString *error);
#endif

} // namespace td::net
