// The writer thread: owns its own Store connection and commits work items in groups
// ("group commit"): everything that arrived while the previous commit was running, or
// within a short window after the first pending item, goes into ONE transaction. The
// results come back with committed() only after the COMMIT returned, so a caller that
// acknowledges on committed() never acknowledges data that is not durable.
#pragma once

#include "store/store.h"

#include <QElapsedTimer>
#include <QObject>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <deque>
#include <mutex>
#include <thread>

namespace td::store {

struct WriterStats {
    qint64 commits = 0;
    qint64 items = 0;
    qint64 failed = 0;            // items of failed transactions
    qint64 maxBatch = 0;
    double commitMsTotal = 0;     // time inside applyBatch (insert + COMMIT + fsync)
    double commitMsMax = 0;
    qint64 checkpoints = 0;       // passes of the checkpointer thread that copied pages
    qint64 tailCheckpoints = 0;   // by the writer, so that the WAL can start over
    double tailMsTotal = 0;       // time the writer spent in them (no commit meanwhile)
    double tailMsMax = 0;
    qint64 walPagesMax = 0;       // the longest WAL a checkpoint found (pages)
    qint64 deferredMax = 0;       // most position rows waiting in groups at a commit
    qint64 recovered = 0;         // position rows a previous run left waiting, written at start
    QString text() const;
};

struct WriterOptions {
    QString path;                  // database file
    StoreOptions store;
    int commitWindowMs = 2;        // wait this long after the first item for more (0: none)
    int maxBatch = 8192;           // items per transaction at most
    RetentionPolicy retention;
    int pruneIntervalMs = 60000;   // how often pruning runs (in short chunks between commits)
    // WAL checkpoints run on a connection of their own (PASSIVE, never blocking the
    // writer) once the WAL has grown past this many pages. Under continuous writes such a
    // checkpoint never catches up with the writer, and SQLite starts the WAL over only
    // once all of it is copied: the writer then copies the short rest itself between two
    // commits (still PASSIVE: it never waits for readers), so the WAL stays bounded.
    // 16,000 (about 64 MB of WAL): with many devices each commit rewrites each active
    // device's newest page, and each checkpoint copies it once more; fewer checkpoints copy
    // less (bench_server at 15,000 fixes/s: p99 360 ms against 540 ms with 4,000).
    int checkpointPages = 16000;
    // The checkpointer repeats its pass until a pass finds at most this many new pages, and
    // only then leaves the rest to the writer (whose copy holds the next commit).
    int tailPages = 1000;
    // StoreOptions::deferPositionsMs for the writer's connection: the position rows of a
    // device that sends faster than this are written in groups, once per this many ms
    // (durable in positions_pending_batches before the ack meanwhile). 0: every row at once.
    int deferPositionsMs = 1000;
    // Diagnostics: one line on stderr per commit (items, time, rows waiting in groups,
    // items queued behind it), per checkpoint pass (WAL pages, copied, sync time) and per
    // copy by the writer, with milliseconds since the writer started. For finding where
    // slow acks come from; TrackerService sets it from TRACKERDESK_WRITER_TRACE=1.
    bool trace = false;
    int deferFromItems = 32;       // StoreOptions::deferFromItems
    // The WAL file is cut back to nothing once the writer is idle and the file is larger
    // than this. Not while busy: SQLite cuts the file back (journal_size_limit) in the
    // first commit after the WAL starts over, and at 20,000 fixes/s that ftruncate alone
    // held the acks of that commit ~20 ms each time; the limit it applies is 8 times this.
    qint64 walSizeLimitBytes = 64 * 1024 * 1024;
};

class StoreWriter : public QObject {
    Q_OBJECT
public:
    explicit StoreWriter(QObject *parent = nullptr);
    ~StoreWriter() override;  // stop()s

    // Opens the database on the writer thread; false with *error if it cannot.
    bool start(const WriterOptions &options, QString *error);
    bool isRunning() const { return m_thread.joinable(); }

    // Thread-safe. Items are committed in submission order; results come back in that order.
    void submit(WorkItem item);
    void submit(QList<WorkItem> items);

    // Commits everything submitted so far, emits the last results, closes the database and
    // joins the thread. Safe to call twice.
    void stop();

    void setRetention(const RetentionPolicy &policy);
    void pruneNow();               // prune at the next idle moment
    qint64 pending() const;
    qint64 commits() const { return m_commits.load(); }
    WriterStats stats() const;

signals:
    // Emitted on the writer thread; connect with a queued (auto) connection. `results`
    // are in submission order and all have ok == true.
    void committed(const QList<td::store::WorkResult> &results);
    // The transaction failed: nothing of these items is stored (results have ok == false).
    void failed(const QString &error, const QList<td::store::WorkResult> &results);
    void pruned(qint64 frames);
    void pruneFailed(const QString &error);
    // Another problem of the writer's housekeeping: a WAL checkpoint, writing deferred
    // position groups (they stay durable in positions_pending_batches and are tried again).
    void problem(const QString &error);

private:
    void run(std::promise<QString> *opened);
    void checkpointLoop();
    void trace(const char *format, ...) const
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;

    WriterOptions m_options;
    std::thread m_thread;
    mutable std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<WorkItem> m_queue;
    std::chrono::steady_clock::time_point m_firstArrival;
    bool m_stop = false;
    bool m_pruneRequested = false;
    RetentionPolicy m_retention;
    std::atomic<qint64> m_commits{0};
    WriterStats m_stats;                 // guarded by m_mutex
    std::thread m_checkpointer;
    std::condition_variable m_checkpointCv;
    bool m_checkpointWanted = false;
    std::atomic<bool> m_tailCheckpointWanted{false};
    QElapsedTimer m_traceClock;          // WriterOptions::trace: since start()
};

} // namespace td::store

Q_DECLARE_METATYPE(td::store::WorkResult)
