#include "export/exportrunner.h"

#include "export/storesource.h"
#include "store/store.h"

#include <QElapsedTimer>
#include <QFileInfo>

namespace td::exporter {

namespace {

bool openStore(store::Store &st, const QString &dbPath, ExportResult *r) {
    if (!QFileInfo::exists(dbPath)) {
        r->error = QStringLiteral("no TrackerDesk database at %1").arg(dbPath);
        return false;
    }
    if (!st.open(dbPath, exportStoreOptions())) {
        r->error = QStringLiteral("cannot open %1: %2").arg(dbPath, st.lastError());
        return false;
    }
    return true;
}

ExportInfo infoFor(store::Store &st, const QList<qint64> &ids, const QDateTime &from, const QDateTime &to) {
    ExportInfo info;
    info.creator = QStringLiteral("TrackerDesk " TD_VERSION);
    info.created = QDateTime::currentDateTimeUtc();
    info.from = from;
    info.to = to;
    for (qint64 id : ids)
        if (const auto d = st.device(id))
            info.devices << toTrackDevice(*d);
    return info;
}

} // namespace

ExportResult runStoreTrackExport(const QString &dbPath, const TrackExportRequest &request, const QString &targetPath,
                                 const ExportControl &control) {
    ExportResult r;
    const ExportFormat *format = exportFormat(request.formatId);
    if (!format || format->kind != ExportKind::Track) {
        r.error = QStringLiteral("'%1' is not a track format (use %2)")
                      .arg(request.formatId, QStringLiteral("gpx, kml, geojson or csv"));
        return r;
    }
    store::Store st;
    if (!openStore(st, dbPath, &r))
        return r;
    StoreTrackSource source(st, request.deviceIds, request.from, request.to, request.options);
    return exportTracksToFile(source, *format, infoFor(st, request.deviceIds, request.from, request.to),
                              request.options, targetPath, control);
}

ExportResult runStoreFrameExport(const QString &dbPath, const FrameExportRequest &request, const QString &targetPath,
                                 const ExportControl &control) {
    ExportResult r;
    store::Store st;
    if (!openStore(st, dbPath, &r))
        return r;
    StoreFrameSource source(st, request.deviceIds, request.from, request.to);
    proto::pcapng::WriterOptions o = request.options;
    if (o.application.isEmpty())
        o.application = QStringLiteral("TrackerDesk " TD_VERSION);
    return exportFramesToFile(source, o, targetPath, control);
}

ExportRunner::ExportRunner(QObject *parent) : QObject(parent) {
    qRegisterMetaType<td::exporter::ExportResult>("td::exporter::ExportResult");
}

ExportRunner::~ExportRunner() {
    if (m_thread) {
        m_cancel = true;
        m_thread->wait();
        delete m_thread;
    }
}

bool ExportRunner::isRunning() const { return m_thread && m_thread->isRunning(); }

bool ExportRunner::wait(int msecs) {
    if (!m_thread)
        return true;
    return m_thread->wait(msecs < 0 ? QDeadlineTimer(QDeadlineTimer::Forever) : QDeadlineTimer(msecs));
}

void ExportRunner::cancel() { m_cancel = true; }

bool ExportRunner::start(Work work) {
    if (isRunning())
        return false;
    if (m_thread) {
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
    }
    m_cancel = false;
    m_result = ExportResult();
    // Each run has its own result slot: a late finished() of an earlier run never shows
    // the result of a later one.
    auto result = std::make_shared<ExportResult>();
    m_thread = QThread::create([this, result, work = std::move(work)] {
        QElapsedTimer clock;
        clock.start();
        qint64 lastEmit = -1000;
        ExportControl control;
        control.cancel = &m_cancel;
        control.progressEvery = 2048;
        control.progress = [&](qint64 done, qint64 total) {
            const qint64 now = clock.elapsed();
            const bool final = total >= 0 && done >= total;
            if (final || done == 0 || now - lastEmit >= 50) {
                lastEmit = now;
                emit progress(done, total);   // queued to the runner's thread
            }
        };
        *result = work(control);
    });
    connect(m_thread, &QThread::finished, this, [this, result] {
        m_result = *result;
        emit finished(*result);
    });
    m_thread->start();
    return true;
}

ExportRunner::Work ExportRunner::trackExportWork(const QString &dbPath, const TrackExportRequest &request,
                                                 const QString &targetPath) {
    return [=](const ExportControl &control) { return runStoreTrackExport(dbPath, request, targetPath, control); };
}

ExportRunner::Work ExportRunner::frameExportWork(const QString &dbPath, const FrameExportRequest &request,
                                                 const QString &targetPath) {
    return [=](const ExportControl &control) { return runStoreFrameExport(dbPath, request, targetPath, control); };
}

} // namespace td::exporter
