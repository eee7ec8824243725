// The Linux ServerSockets (see serversockets.h): raw non-blocking sockets in one epoll
// instance, level-triggered. Qt's event loop watches the epoll descriptor only (one
// QSocketNotifier); each activation takes up to kBatch ready sockets with
// epoll_wait(..., 0), reports them, then ends the batch (socketsBatchDone()).
//  - read: straight recv() into the caller's buffer; 0 from recv() is the peer's close;
//  - write: queued per connection, flush() sends it with one send() each; what the kernel
//    does not take waits, and EPOLLOUT is watched until it has gone. A failed send is
//    reported from the event loop (queued), never from inside flush();
//  - graceful close: the connection leaves the server at once, its queued bytes still go
//    out (bounded in time), then the socket is closed.
// Every epoll registration carries a sequence number of the connection (its slot in
// m_conns may be reused), so an event of a socket closed while the same batch is handled
// is ignored.
#include <QtGlobal>

#ifdef Q_OS_LINUX

#include "net/posixsocket.h"
#include "server/serversockets.h"

#include <QDeadlineTimer>
#include <QHash>
#include <QSocketNotifier>
#include <QTimer>

#include <fcntl.h>

#include <cerrno>
#include <utility>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace td::server {

namespace {

using net::errnoText;

class EpollServerSockets final : public ServerSockets {
public:
    EpollServerSockets(SocketsClient *client, int epfd) : m_client(client), m_epfd(epfd), m_events(kBatch) {
        m_notifier = std::make_unique<QSocketNotifier>(qintptr(m_epfd), QSocketNotifier::Read);
        QObject::connect(m_notifier.get(), &QSocketNotifier::activated, m_notifier.get(), [this] { onActivated(); });
        m_lingerTimer.setInterval(1000);
        QObject::connect(&m_lingerTimer, &QTimer::timeout, &m_lingerTimer, [this] { expireLingering(); });
    }
    ~EpollServerSockets() override {
        m_notifier.reset();
        for (Conn &c : m_conns)
            if (c.fd >= 0)
                ::close(c.fd);
        ::close(m_epfd);
    }

    QString name() const override { return QStringLiteral("epoll"); }

    bool adopt(quint64 id, qintptr descriptor, QHostAddress *peer, quint16 *peerPort, QString *error) override {
        const int fd = int(descriptor);
        auto fail = [&](const QString &why) {
            ::close(fd);
            if (error)
                *error = why;
            return false;
        };
        if (m_byId.contains(id))
            return fail(QStringLiteral("connection %1 exists already").arg(id));
        sockaddr_storage sa{};
        socklen_t saLen = sizeof sa;
        if (::getpeername(fd, reinterpret_cast<sockaddr *>(&sa), &saLen) != 0)
            return fail(errnoText(errno));
        peer->setAddress(reinterpret_cast<const sockaddr *>(&sa));
        *peerPort = sa.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 *>(&sa)->sin6_port)
                                             : ntohs(reinterpret_cast<const sockaddr_in *>(&sa)->sin_port);
        // QTcpServer hands over blocking descriptors.
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
            return fail(errnoText(errno));
        // An ack must go out now, not after the peer's delayed ACK of the previous one.
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int slot;
        if (!m_freeSlots.empty()) {
            slot = m_freeSlots.back();
            m_freeSlots.pop_back();
        } else {
            slot = int(m_conns.size());
            m_conns.emplace_back();
        }
        Conn &c = m_conns[size_t(slot)];
        c = Conn();
        c.fd = fd;
        c.id = id;
        c.sequence = ++m_sequence;
        c.interest = EPOLLIN;
        if (!control(EPOLL_CTL_ADD, slot, c)) {
            const int e = errno;
            c.fd = -1;
            m_freeSlots.push_back(slot);
            return fail(QStringLiteral("epoll: %1").arg(errnoText(e)));
        }
        m_byId.insert(id, slot);
        return true;
    }

    qsizetype read(quint64 id, char *buffer, qsizetype max, QString *error) override {
        Conn *c = find(id);
        if (!c)
            return Closed;
        if (c->failed)
            return NothingNow;  // its failure is on the way
        for (;;) {
            const ssize_t n = ::recv(c->fd, buffer, size_t(max), 0);
            if (n > 0)
                return qsizetype(n);
            if (n == 0)
                return Closed;
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return NothingNow;
            if (errno == ECONNRESET)
                return Closed;
            if (error)
                *error = errnoText(errno);
            return Error;
        }
    }

    void pauseReading(quint64 id, bool paused) override {
        const int slot = m_byId.value(id, -1);
        if (slot < 0)
            return;
        Conn &c = m_conns[size_t(slot)];
        c.paused = paused;
        updateInterest(slot, c);
    }

    void write(quint64 id, const QByteArray &bytes) override {
        const int slot = m_byId.value(id, -1);
        if (slot < 0 || bytes.isEmpty())
            return;
        Conn &c = m_conns[size_t(slot)];
        if (c.failed)
            return;
        if (c.outPos > 0 && c.outPos >= c.out.size() / 2) {
            c.out.remove(0, c.outPos);
            c.outPos = 0;
        }
        if (c.out.isEmpty())
            c.out = bytes;   // shared, no copy
        else
            c.out.append(bytes);
        if (!c.dirty) {
            c.dirty = true;
            m_dirty.push_back(slot);
        }
    }

    void flush() override {
        const std::vector<int> dirty = std::exchange(m_dirty, {});
        for (int slot : dirty) {
            Conn &c = m_conns[size_t(slot)];
            if (!c.dirty)
                continue;   // closed since
            c.dirty = false;
            if (c.fd >= 0 && !c.failed)
                send(slot, c);
        }
    }

    qint64 bytesToWrite(quint64 id) const override {
        const int slot = m_byId.value(id, -1);
        if (slot < 0)
            return 0;
        const Conn &c = m_conns[size_t(slot)];
        return c.out.size() - c.outPos;
    }

    void close(quint64 id, bool graceful) override {
        const int slot = m_byId.value(id, -1);
        if (slot < 0)
            return;
        m_byId.remove(id);
        Conn &c = m_conns[size_t(slot)];
        if (graceful && !c.failed) {
            // The server is done with it; what it queued still goes out.
            if (c.dirty) {
                c.dirty = false;
                send(slot, c);
            }
            if (!c.failed && c.outPos < c.out.size()) {
                c.lingering = true;
                c.lingerUntil = QDeadlineTimer(5000);
                c.paused = true;
                updateInterest(slot, c);
                ++m_lingering;
                if (!m_lingerTimer.isActive())
                    m_lingerTimer.start();
                return;
            }
        }
        release(slot, c);
    }

    int openCount() const override { return int(m_byId.size()) + m_lingering; }

private:
    static constexpr int kBatch = 512;

    struct Conn {
        int fd = -1;
        quint64 id = 0;
        quint32 sequence = 0;
        quint32 interest = 0;       // the epoll events registered
        bool paused = false;        // no reports of bytes to read
        bool dirty = false;         // in m_dirty: queued bytes to send at the next flush()
        bool failed = false;        // a send failed; reported from the event loop
        bool lingering = false;     // closed by the server, still sending its last bytes
        bool detached = false;      // out of the epoll set: hung up while paused
        QDeadlineTimer lingerUntil;
        QByteArray out;             // bytes the kernel has not taken yet, from outPos on
        qsizetype outPos = 0;
    };

    Conn *find(quint64 id) {
        const int slot = m_byId.value(id, -1);
        return slot < 0 ? nullptr : &m_conns[size_t(slot)];
    }

    bool control(int op, int slot, Conn &c) {
        epoll_event ev{};
        ev.events = c.interest;
        ev.data.u64 = (quint64(c.sequence) << 32) | quint32(slot);
        return ::epoll_ctl(m_epfd, op, c.fd, &ev) == 0;
    }

    void updateInterest(int slot, Conn &c) {
        const quint32 wanted = (c.paused ? 0u : quint32(EPOLLIN)) | (c.outPos < c.out.size() ? quint32(EPOLLOUT) : 0u);
        if (c.fd < 0 || c.failed)
            return;
        if (c.detached ? wanted == 0 : wanted == c.interest)
            return;
        c.interest = wanted;
        const int op = c.detached ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
        c.detached = false;
        if (!control(op, slot, c))
            failLater(slot, c, QStringLiteral("epoll: %1").arg(errnoText(errno)));
    }

    // Sends what waits; a failure is reported from the event loop.
    void send(int slot, Conn &c) {
        int error = 0;
        c.outPos += net::sendSome(c.fd, c.out.constData() + c.outPos, c.out.size() - c.outPos, &error);
        if (error) {
            failLater(slot, c, error == EPIPE || error == ECONNRESET ? QStringLiteral("closed by the peer")
                                                                    : QStringLiteral("cannot send: %1").arg(errnoText(error)));
            return;
        }
        if (c.outPos >= c.out.size()) {
            c.out = QByteArray();
            c.outPos = 0;
        }
        updateInterest(slot, c);
    }

    void failLater(int slot, Conn &c, const QString &why) {
        if (c.failed)
            return;
        c.failed = true;
        c.out = QByteArray();
        c.outPos = 0;
        ::epoll_ctl(m_epfd, EPOLL_CTL_DEL, c.fd, nullptr);   // a reset socket would be reported at every turn
        c.interest = 0;
        if (c.lingering) {
            QMetaObject::invokeMethod(m_notifier.get(), [this, slot, seq = c.sequence] {
                Conn &l = m_conns[size_t(slot)];
                if (l.fd >= 0 && l.sequence == seq && l.lingering)
                    release(slot, l);
            }, Qt::QueuedConnection);
            return;
        }
        QMetaObject::invokeMethod(m_notifier.get(), [this, id = c.id, seq = c.sequence, why] {
            const int s = m_byId.value(id, -1);
            if (s < 0 || m_conns[size_t(s)].sequence != seq)
                return;   // closed by the server meanwhile
            release(s, m_conns[size_t(s)]);
            m_byId.remove(id);
            m_client->socketFailed(id, why);
        }, Qt::QueuedConnection);
    }

    void release(int slot, Conn &c) {
        if (c.fd >= 0) {
            if (!c.failed && !c.detached)
                ::epoll_ctl(m_epfd, EPOLL_CTL_DEL, c.fd, nullptr);
            ::close(c.fd);
        }
        if (c.lingering)
            --m_lingering;
        c = Conn();
        m_freeSlots.push_back(slot);
    }

    void expireLingering() {
        for (size_t i = 0; i < m_conns.size(); ++i)
            if (m_conns[i].lingering && m_conns[i].lingerUntil.hasExpired())
                release(int(i), m_conns[i]);
        if (m_lingering == 0)
            m_lingerTimer.stop();
    }

    void onActivated() {
        const int n = ::epoll_wait(m_epfd, m_events.data(), kBatch, 0);
        for (int i = 0; i < n; ++i) {
            const int slot = int(quint32(m_events[size_t(i)].data.u64 & 0xFFFFFFFFu));
            const quint32 sequence = quint32(m_events[size_t(i)].data.u64 >> 32);
            const quint32 events = m_events[size_t(i)].events;
            if (size_t(slot) >= m_conns.size())
                continue;
            Conn &c = m_conns[size_t(slot)];
            if (c.fd < 0 || c.sequence != sequence || c.failed)
                continue;   // closed (its slot perhaps reused) since epoll_wait
            if ((events & EPOLLOUT) && c.outPos < c.out.size())
                send(slot, c);
            if (c.lingering) {
                if (c.outPos >= c.out.size() || (events & (EPOLLHUP | EPOLLERR)))
                    release(slot, c);   // all sent (or no peer to send to): done
                continue;
            }
            if (c.paused && (events & (EPOLLHUP | EPOLLERR))) {
                // Hung up or reset while the server is not reading it: epoll would report
                // that at every turn. Out of the set until reading resumes (the bytes and
                // the end of the stream wait for read()).
                ::epoll_ctl(m_epfd, EPOLL_CTL_DEL, c.fd, nullptr);
                c.detached = true;
                continue;
            }
            if (!c.failed && !c.paused && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                m_client->socketReadable(c.id);   // may close or adopt connections: `c` is not used after
        }
        m_client->socketsBatchDone();
    }

    SocketsClient *m_client;
    int m_epfd;
    std::unique_ptr<QSocketNotifier> m_notifier;
    QTimer m_lingerTimer;
    std::vector<Conn> m_conns;
    std::vector<int> m_freeSlots;
    QHash<quint64, int> m_byId;
    std::vector<epoll_event> m_events;
    std::vector<int> m_dirty;       // slots with bytes queued since the last flush()
    quint32 m_sequence = 0;
    int m_lingering = 0;
};

} // namespace

std::unique_ptr<ServerSockets> makeEpollServerSockets(SocketsClient *client, QString *error) {
    const int epfd = net::createEpoll(error);
    return epfd < 0 ? nullptr : std::make_unique<EpollServerSockets>(client, epfd);
}

} // namespace td::server

#endif // Q_OS_LINUX
