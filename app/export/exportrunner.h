// Runs an export on a worker thread for a progress dialog with a Cancel button:
//
//   auto *runner = new ExportRunner(dialog);
//   connect(runner, &ExportRunner::progress, bar, [bar](qint64 done, qint64 total) {...});
//   connect(runner, &ExportRunner::finished, dialog, [](const ExportResult &r) {...});
//   connect(cancelButton, &QPushButton::clicked, runner, &ExportRunner::cancel);
//   runner->start(ExportRunner::trackExportWork(dbPath, request, path));
//
// progress() and finished() arrive in the runner's thread (queued); progress is throttled
// to about 20 signals a second. A Store must be used from the thread that opened it, so
// the store works open their own read-only connection on the worker thread.
#pragma once

#include "export/exporter.h"

#include <QObject>
#include <QThread>

namespace td::exporter {

struct TrackExportRequest {
    QString formatId = QStringLiteral("gpx");
    QList<qint64> deviceIds;           // empty: all devices
    QDateTime from, to;                // invalid: open end
    TrackOptions options;
};

struct FrameExportRequest {
    QList<qint64> deviceIds;           // empty: all frames
    QDateTime from, to;
    proto::pcapng::WriterOptions options;
};

// The whole job with its own store connection (usable from any one thread).
ExportResult runStoreTrackExport(const QString &dbPath, const TrackExportRequest &request, const QString &targetPath,
                                 const ExportControl &control = {});
ExportResult runStoreFrameExport(const QString &dbPath, const FrameExportRequest &request, const QString &targetPath,
                                 const ExportControl &control = {});

class ExportRunner : public QObject {
    Q_OBJECT
public:
    using Work = std::function<ExportResult(const ExportControl &control)>;

    explicit ExportRunner(QObject *parent = nullptr);
    ~ExportRunner() override;   // cancels a running export and waits for it

    // Starts `work` on a worker thread. False when an export is already running.
    bool start(Work work);
    bool isRunning() const;
    bool wait(int msecs = -1);
    ExportResult result() const { return m_result; }

    static Work trackExportWork(const QString &dbPath, const TrackExportRequest &request, const QString &targetPath);
    static Work frameExportWork(const QString &dbPath, const FrameExportRequest &request, const QString &targetPath);

public slots:
    void cancel();

signals:
    void progress(qint64 done, qint64 total);
    void finished(const td::exporter::ExportResult &result);

private:
    QThread *m_thread = nullptr;
    std::atomic<bool> m_cancel{false};
    ExportResult m_result;
};

} // namespace td::exporter
