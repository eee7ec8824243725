#include "store/writer.h"

#include <QDateTime>
#include <cstdarg>
#include <cstdio>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlQuery>

#ifdef Q_OS_LINUX
#include <pthread.h>
#endif
#ifdef Q_OS_UNIX
#include <fcntl.h>
#include <unistd.h>
#endif

namespace td::store {

namespace {
// The thread's name as `top -H`, `perf` and /proc show it.
void nameThisThread(const char *name) {
#ifdef Q_OS_LINUX
    pthread_setname_np(pthread_self(), name);
#else
    Q_UNUSED(name);
#endif
}
} // namespace

// A line of WriterOptions::trace: "writer-trace <ms since start> <what>".
void StoreWriter::trace(const char *format, ...) const {
    if (!m_options.trace)
        return;
    char line[256];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    std::fprintf(stderr, "writer-trace %lld %s\n", static_cast<long long>(m_traceClock.elapsed()), line);
}

QString WriterStats::text() const {
    return QStringLiteral("%1 commits of %2 items (average %3, largest %4), commit time average %5 ms, max %6 ms, "
                          "%7 checkpoints + %8 by the writer (%11 ms in all, %14 ms max), longest WAL %9 pages, "
                          "at most %12 positions waiting in groups%13%10")
        .arg(commits).arg(items).arg(commits ? double(items) / commits : 0, 0, 'f', 1).arg(maxBatch)
        .arg(commits ? commitMsTotal / commits : 0, 0, 'f', 2).arg(commitMsMax, 0, 'f', 1).arg(checkpoints)
        .arg(tailCheckpoints).arg(walPagesMax)
        .arg(failed ? QStringLiteral(", %1 items failed").arg(failed) : QString())
        .arg(tailMsTotal, 0, 'f', 1).arg(deferredMax)
        .arg(recovered ? QStringLiteral(", %1 left by a previous run written at start").arg(recovered) : QString())
        .arg(tailMsMax, 0, 'f', 1);
}

WriterStats StoreWriter::stats() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_stats;
}

StoreWriter::StoreWriter(QObject *parent) : QObject(parent) {
    qRegisterMetaType<td::store::WorkResult>();
    qRegisterMetaType<QList<td::store::WorkResult>>();
}

StoreWriter::~StoreWriter() { stop(); }

bool StoreWriter::start(const WriterOptions &options, QString *error) {
    if (m_thread.joinable()) {
        if (error) *error = QStringLiteral("the writer is already running");
        return false;
    }
    m_options = options;
    m_traceClock.start();
    m_retention = options.retention;
    m_stop = false;
    std::promise<QString> opened;
    std::future<QString> result = opened.get_future();
    m_thread = std::thread([this, &opened] {
        nameThisThread("td-writer");
        run(&opened);
    });
    const QString err = result.get();
    if (!err.isEmpty()) {
        m_thread.join();
        if (error) *error = err;
        return false;
    }
    if (!options.store.readOnly && options.checkpointPages > 0)
        m_checkpointer = std::thread([this] {
            nameThisThread("td-checkpoint");
            checkpointLoop();
        });
    return true;
}

// Checkpoints the WAL from a connection of its own when the writer says it has grown.
// PASSIVE: copies what it can without blocking the writer or readers.
void StoreWriter::checkpointLoop() {
    Store store;
    if (!store.open(m_options.path, m_options.store))
        return;
    QSqlQuery q(store.database());
    // What the previous pass reported: SQLite reports the frames copied so far in this WAL
    // (cumulative), so an idle pass repeats the figures and is not counted as a checkpoint.
    qint64 lastWalPages = 0, lastCopied = 0, lastCommits = -1;
#ifdef Q_OS_UNIX
    const int dbFd = ::open(QFile::encodeName(m_options.path).constData(), O_RDONLY | O_CLOEXEC);
    auto flushDatabaseFile = [dbFd] {
        if (dbFd < 0)
            return;
#ifdef Q_OS_DARWIN
        ::fsync(dbFd);
#else
        ::fdatasync(dbFd);
#endif
    };
#else
    auto flushDatabaseFile = [] {};
#endif
    qint64 tracedWal = -2, tracedCopied = -2;   // WriterOptions::trace: the last pass shown
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            // Also once a second: cheap when the WAL has nothing new.
            m_checkpointCv.wait_for(lock, std::chrono::seconds(1), [this] { return m_stop || m_checkpointWanted; });
            // No pass while the writer's copy is pending (it would find the checkpoint lock
            // taken and the WAL could not start over); at most a second, the writer may be
            // idle.
            m_checkpointCv.wait_for(lock, std::chrono::seconds(1), [this] { return m_stop || !m_tailCheckpointWanted; });
            if (m_stop)
                break;
            m_checkpointWanted = false;
        }
        // One PASSIVE pass: (busy, frames in the WAL when it began, frames copied so far).
        auto pass = [&](qint64 *walPages, qint64 *copied) {
            if (!q.exec(QStringLiteral("PRAGMA wal_checkpoint(PASSIVE)"))) {
                emit problem(QStringLiteral("WAL checkpoint failed: %1").arg(q.lastError().text()));
                return false;
            }
            const bool row = q.next();
            *walPages = row ? q.value(1).toLongLong() : -1;
            *copied = row ? q.value(2).toLongLong() : 0;
            q.finish();
            // A pass that does not copy everything does not sync the database file (the WAL
            // still has the frames); the pass that completes, the writer's, syncs all
            // that the passes before it wrote. Sync here instead, beside the writer, so
            // that the writer's sync holds its commits only for what it copied itself.
            QElapsedTimer sync;
            sync.start();
            if (*copied > 0)
                flushDatabaseFile();
            if (*walPages != tracedWal || *copied != tracedCopied)   // an idle pass repeats the figures
                trace("checkpoint pass: WAL %lld pages, %lld copied, sync %.1f ms", *walPages, *copied, sync.nsecsElapsed() / 1e6);
            tracedWal = *walPages;
            tracedCopied = *copied;
            return true;
        };
        qint64 walPages = 0, copied = 0;
        if (!pass(&walPages, &copied))
            continue;
        const bool restarted = walPages < lastWalPages;   // the WAL started over since
        const bool didWork = copied > (restarted ? 0 : lastCopied);
        const qint64 firstWalPages = walPages;
        if (walPages >= m_options.checkpointPages) {
            // The writer went on while this ran (the figures are those of the WAL when the
            // pass began): what it added is not copied yet, and the WAL cannot start over
            // until it is. Copy it here in further passes while they still find much new (a
            // few at most), so that what is left for the writer to copy between two
            // commits, holding its acks, is short: 1-14 ms instead of 10-40 ms at 20,000
            // fixes/s.
            for (int i = 0; i < 8; ++i) {
                qint64 w = 0, c = 0;
                if (!pass(&w, &c) || w < walPages) {  // failed, or the WAL started over
                    walPages = w;
                    copied = c;
                    break;
                }
                const qint64 added = w - walPages;
                walPages = w;
                copied = c;
                if (added <= m_options.tailPages)
                    break;
            }
            if (walPages >= firstWalPages)
                m_tailCheckpointWanted = true;
        }
        // Idle (nothing new since the last look) with a large WAL file left by a busy
        // time: copy the rest and cut the file to nothing (TRUNCATE waits for the writer's
        // lock, which an idle writer does not hold for long).
        const qint64 commits = m_commits.load();
        const bool writerIdle = commits == lastCommits && pending() == 0;
        lastCommits = commits;
        if (writerIdle && !didWork && walPages >= 0 && walPages == lastWalPages && m_options.walSizeLimitBytes > 0
            && QFileInfo(m_options.path + QStringLiteral("-wal")).size() > m_options.walSizeLimitBytes) {
            if (!q.exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")))
                emit problem(QStringLiteral("WAL checkpoint failed: %1").arg(q.lastError().text()));
            q.finish();
            walPages = 0;
            copied = 0;
        }
        lastWalPages = walPages;
        lastCopied = copied;
        std::lock_guard<std::mutex> lock(m_mutex);
        if (didWork)
            ++m_stats.checkpoints;
        m_stats.walPagesMax = qMax(m_stats.walPagesMax, walPages);
    }
    q.finish();
    store.close();
#ifdef Q_OS_UNIX
    if (dbFd >= 0)
        ::close(dbFd);
#endif
}

void StoreWriter::submit(WorkItem item) {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_queue.empty())
            m_firstArrival = std::chrono::steady_clock::now();
        m_queue.push_back(std::move(item));
    }
    m_cv.notify_one();
}

void StoreWriter::submit(QList<WorkItem> items) {
    if (items.isEmpty())
        return;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_queue.empty())
            m_firstArrival = std::chrono::steady_clock::now();
        for (WorkItem &i : items)
            m_queue.push_back(std::move(i));
    }
    m_cv.notify_one();
}

void StoreWriter::stop() {
    if (!m_thread.joinable())
        return;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_one();
    m_thread.join();
    m_checkpointCv.notify_one();
    if (m_checkpointer.joinable())
        m_checkpointer.join();
}

void StoreWriter::setRetention(const RetentionPolicy &policy) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_retention = policy;
    m_pruneRequested = true;
    m_cv.notify_one();
}

void StoreWriter::pruneNow() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_pruneRequested = true;
    m_cv.notify_one();
}

qint64 StoreWriter::pending() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return qint64(m_queue.size());
}

void StoreWriter::run(std::promise<QString> *opened) {
    Store store;
    StoreOptions storeOptions = m_options.store;
    if (!storeOptions.readOnly) {
        storeOptions.deferPositionsMs = m_options.deferPositionsMs;
        storeOptions.deferFromItems = m_options.deferFromItems;
    }
    if (!store.open(m_options.path, storeOptions)) {
        opened->set_value(store.lastError());
        return;
    }
    // Positions a previous run acknowledged but left waiting in groups (it was killed).
    // On failure they wait on: the first batch tries again.
    if (store.flushDeferred(QDateTime::currentMSecsSinceEpoch(), true)) {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stats.recovered = store.recoveredPending();
    }
    // The checkpointer thread does the checkpoints (see WriterOptions::checkpointPages).
    const bool ownCheckpoints = m_options.checkpointPages > 0 && !m_options.store.readOnly;
    if (ownCheckpoints) {
        QSqlQuery q(store.database());
        q.exec(QStringLiteral("PRAGMA wal_autocheckpoint=0"));
    }
    if (!m_options.store.readOnly && m_options.walSizeLimitBytes > 0) {
        QSqlQuery q(store.database());
        q.exec(QStringLiteral("PRAGMA journal_size_limit=%1").arg(m_options.walSizeLimitBytes * 8));
        q.finish();
    }
    opened->set_value(QString());
    qint64 walPagesSinceCheckpoint = 0;

    using clock = std::chrono::steady_clock;
    const auto window = std::chrono::milliseconds(qMax(0, m_options.commitWindowMs));
    const auto pruneInterval = std::chrono::milliseconds(qMax(1000, m_options.pruneIntervalMs));
    auto nextPrune = clock::now() + std::chrono::seconds(5);
    bool pruning = false;  // more chunks to delete
    qint64 deferredRetryMs = 0;  // no idle write of deferred groups before (after a failure)
    QList<WorkItem> batch;
    QList<WorkResult> results;

    for (;;) {
        RetentionPolicy retention;
        bool doPrune = false;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            auto wakeAt = pruning ? clock::now() : nextPrune;
            const qint64 deferredDue = store.nextDeferredDueMs();
            if (deferredDue >= 0) {
                const qint64 inMs = qMax<qint64>(0, qMax(deferredDue, deferredRetryMs) - QDateTime::currentMSecsSinceEpoch());
                wakeAt = qMin(wakeAt, clock::now() + std::chrono::milliseconds(inMs));
            }
            m_cv.wait_until(lock, wakeAt, [this] { return m_stop || !m_queue.empty() || m_pruneRequested; });
            if (m_queue.empty() && m_stop)
                break;
            // Group commit: give the first item's companions a short window to arrive.
            if (!m_queue.empty() && !m_stop && window.count() > 0 && int(m_queue.size()) < m_options.maxBatch) {
                const auto deadline = m_firstArrival + window;
                m_cv.wait_until(lock, deadline, [this] { return m_stop || int(m_queue.size()) >= m_options.maxBatch; });
            }
            const int n = qMin(int(m_queue.size()), m_options.maxBatch);
            batch.clear();
            batch.reserve(n);
            for (int i = 0; i < n; ++i) {
                batch.append(std::move(m_queue.front()));
                m_queue.pop_front();
            }
            if (!m_queue.empty())
                m_firstArrival = clock::now();
            retention = m_retention;
            if (m_pruneRequested || clock::now() >= nextPrune || pruning) {
                doPrune = batch.isEmpty() || m_queue.empty();
                m_pruneRequested = false;
            }
        }
        if (!batch.isEmpty()) {
            QElapsedTimer t;
            t.start();
            const bool ok = store.applyBatch(batch, &results);
            const double ms = t.nsecsElapsed() / 1e6;
            if (m_options.trace)
                trace("commit: %d items in %.1f ms%s, %lld positions waiting in groups, %lld items queued", int(batch.size()), ms,
                      ok ? "" : " (failed)", store.deferredRows(), pending());
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                if (ok) {
                    ++m_stats.commits;
                    m_stats.deferredMax = qMax(m_stats.deferredMax, store.deferredRows());
                    m_stats.items += batch.size();
                    m_stats.maxBatch = qMax<qint64>(m_stats.maxBatch, batch.size());
                    m_stats.commitMsTotal += ms;
                    m_stats.commitMsMax = qMax(m_stats.commitMsMax, ms);
                } else {
                    m_stats.failed += batch.size();
                }
                // Roughly 3 pages per 4 items (frames, positions and their indexes).
                walPagesSinceCheckpoint += batch.size() * 3 / 4 + 1;
                if (ownCheckpoints && walPagesSinceCheckpoint >= m_options.checkpointPages) {
                    walPagesSinceCheckpoint = 0;
                    m_checkpointWanted = true;
                    m_checkpointCv.notify_one();
                }
            }
            if (ok) {
                ++m_commits;
                emit committed(results);
                if (m_tailCheckpointWanted.load()) {
                    // Copies what the checkpointer's pass left (the commits made while it
                    // ran); the next transaction then starts the WAL over. The checkpointer
                    // waits meanwhile; if its lock was still taken (busy), again after the
                    // next commit.
                    QElapsedTimer tt;
                    tt.start();
                    QSqlQuery q(store.database());
                    const bool done = q.exec(QStringLiteral("PRAGMA wal_checkpoint(PASSIVE)"));
                    const bool busy = !done || !q.next() || q.value(0).toInt() != 0;
                    q.finish();
                    const double tms = tt.nsecsElapsed() / 1e6;
                    trace("checkpoint copy by the writer: %.1f ms%s", tms, busy ? " (busy: again after the next commit)" : "");
                    if (!busy) {
                        std::lock_guard<std::mutex> lock(m_mutex);
                        ++m_stats.tailCheckpoints;
                        m_stats.tailMsTotal += tms;
                        m_stats.tailMsMax = qMax(m_stats.tailMsMax, tms);
                        m_tailCheckpointWanted = false;
                    }
                    if (!busy)
                        m_checkpointCv.notify_one();
                }
            } else {
                QList<WorkResult> failedResults;
                failedResults.reserve(batch.size());
                for (const WorkItem &i : std::as_const(batch)) {
                    WorkResult r;
                    r.ticket = i.ticket;
                    failedResults.append(r);
                }
                emit failed(store.lastError(), failedResults);
            }
        }
        if (batch.isEmpty()) {
            // Idle: the groups of deferred positions that are due (a batch writes them too).
            // After a failure (a full disk) not again for a second: they are safe in
            // positions_pending_batches meanwhile.
            const qint64 now = QDateTime::currentMSecsSinceEpoch();
            const qint64 due = store.nextDeferredDueMs();
            if (due >= 0 && due <= now && now >= deferredRetryMs && !store.flushDeferred(now, false)) {
                deferredRetryMs = now + 1000;
                emit problem(store.lastError());
            }
        }
        if (doPrune) {
            // One short chunk per loop turn, between commits.
            const qint64 n = store.pruneFrames(retention, QDateTime::currentMSecsSinceEpoch());
            if (n < 0) {
                emit pruneFailed(store.lastError());
                pruning = false;
            } else {
                if (n > 0)
                    emit pruned(n);
                pruning = n > 0;
            }
            if (!pruning)
                nextPrune = clock::now() + pruneInterval;
        }
    }
    // Everything waiting goes into positions now (if this fails it waits in
    // positions_pending_batches for the next start).
    if (!store.flushDeferred(QDateTime::currentMSecsSinceEpoch(), true))
        emit problem(store.lastError());
    store.close();
}

} // namespace td::store
