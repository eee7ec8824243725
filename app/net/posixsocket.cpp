#include "net/posixsocket.h"

#ifdef Q_OS_UNIX

#include <cerrno>
#include <cstring>

#include <sys/socket.h>
#ifdef Q_OS_LINUX
#include <sys/epoll.h>
#endif

namespace td::net {

QString errnoText(int e) { return QString::fromLocal8Bit(std::strerror(e)); }

qsizetype sendSome(int fd, const char *data, qsizetype size, int *error) {
    *error = 0;
    qsizetype done = 0;
    while (done < size) {
        const ssize_t n = ::send(fd, data + done, size_t(size - done), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            done += n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        else {
            *error = n < 0 ? errno : EPIPE;
            break;
        }
    }
    return done;
}

#ifdef Q_OS_LINUX
int createEpoll(QString *error) {
    const int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0 && error)
        *error = QStringLiteral("cannot create an epoll instance: %1").arg(errnoText(errno));
    return fd;
}
#endif

} // namespace td::net

#endif // Q_OS_UNIX
