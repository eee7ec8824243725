#include "geo/cellimport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QThread>
#include <algorithm>
#include <cmath>

#ifdef TD_HAVE_ZLIB
#include <zlib.h>
#endif

namespace td::geo {

namespace {

constexpr int kMaxLine = 64 * 1024;   // longer lines are malformed (and cut, never buffered)

// Lines of a plain or gzip-compressed file, read in chunks.
class LineSource {
public:
    ~LineSource() {
#ifdef TD_HAVE_ZLIB
        if (m_gz)
            inflateEnd(&m_z);
#endif
    }

    bool open(const QString &path, QString *error) {
        m_file.setFileName(path);
        if (!m_file.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("cannot open %1: %2").arg(path, m_file.errorString());
            return false;
        }
        QByteArray magic = m_file.peek(2);
        if (magic.size() == 2 && uchar(magic[0]) == 0x1f && uchar(magic[1]) == 0x8b) {
#ifdef TD_HAVE_ZLIB
            m_z = z_stream{};
            if (inflateInit2(&m_z, 16 + MAX_WBITS) != Z_OK) {
                *error = QStringLiteral("cannot start the gzip decoder");
                return false;
            }
            m_gz = true;
#else
            *error = QStringLiteral("%1 is gzip-compressed and this TrackerDesk was built without zlib: "
                                    "decompress it first (gunzip)").arg(path);
            return false;
#endif
        }
        return true;
    }

    qint64 size() const { return m_file.size(); }
    qint64 position() const { return m_file.pos(); }
    QString error() const { return m_error; }

    // Next line without its end-of-line; *truncated when it was longer than kMaxLine.
    bool readLine(QByteArray *line, bool *truncated) {
        *truncated = false;
        for (;;) {
            const qsizetype nl = m_buf.indexOf('\n', m_pos);
            if (nl >= 0) {
                if (nl - m_pos > kMaxLine) {
                    *truncated = true;
                    line->clear();
                    m_pos = nl + 1;
                    return true;
                }
                take(line, nl, nl + 1);
                return true;
            }
            if (m_buf.size() - m_pos > kMaxLine) {
                // Skip to the end of this overlong line.
                *truncated = true;
                line->clear();
                m_pos = m_buf.size();
                for (;;) {
                    if (!fill()) {
                        return !m_error.isEmpty() ? false : true;
                    }
                    const qsizetype e = m_buf.indexOf('\n', m_pos);
                    if (e >= 0) {
                        m_pos = e + 1;
                        return true;
                    }
                    m_pos = m_buf.size();
                }
            }
            if (!fill()) {
                if (!m_error.isEmpty() || m_pos >= m_buf.size())
                    return false;
                take(line, m_buf.size(), m_buf.size());   // last line without a newline
                return true;
            }
        }
    }

private:
    void take(QByteArray *line, qsizetype end, qsizetype next) {
        qsizetype e = end;
        if (e > m_pos && m_buf[e - 1] == '\r')
            --e;
        *line = m_buf.mid(m_pos, e - m_pos);
        m_pos = next;
    }

    // Appends more data to m_buf; false at the end or on error.
    bool fill() {
        if (m_pos > 0) {
            m_buf.remove(0, m_pos);
            m_pos = 0;
        }
        char chunk[64 * 1024];
        for (;;) {
            if (!m_gz) {
                const qint64 n = m_file.read(chunk, sizeof chunk);
                if (n < 0) {
                    m_error = QStringLiteral("read error: %1").arg(m_file.errorString());
                    return false;
                }
                if (n == 0)
                    return false;
                m_buf.append(chunk, n);
                return true;
            }
#ifdef TD_HAVE_ZLIB
            if (m_z.avail_in == 0) {
                const qint64 n = m_file.read(m_in, sizeof m_in);
                if (n < 0) {
                    m_error = QStringLiteral("read error: %1").arg(m_file.errorString());
                    return false;
                }
                if (n == 0) {
                    if (!m_streamEnded)
                        m_error = QStringLiteral("the gzip file is truncated");
                    return false;
                }
                m_z.next_in = reinterpret_cast<Bytef *>(m_in);
                m_z.avail_in = uInt(n);
            }
            if (m_streamEnded) {
                // Another gzip member follows (concatenated .gz files).
                inflateReset(&m_z);
                m_streamEnded = false;
            }
            m_z.next_out = reinterpret_cast<Bytef *>(chunk);
            m_z.avail_out = sizeof chunk;
            const int rc = inflate(&m_z, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
                m_error = QStringLiteral("the gzip data is corrupt (%1)").arg(QLatin1String(m_z.msg ? m_z.msg : "inflate error"));
                return false;
            }
            if (rc == Z_STREAM_END)
                m_streamEnded = true;
            const qsizetype produced = qsizetype(sizeof chunk - m_z.avail_out);
            if (produced > 0) {
                m_buf.append(chunk, produced);
                return true;
            }
#else
            return false;
#endif
        }
    }

    QFile m_file;
    QByteArray m_buf;
    qsizetype m_pos = 0;
    bool m_gz = false;
    QString m_error;
#ifdef TD_HAVE_ZLIB
    z_stream m_z{};
    char m_in[64 * 1024];
    bool m_streamEnded = false;
#endif
};

bool toInt64(const QByteArray &f, qint64 min, qint64 max, qint64 *out) {
    bool ok = false;
    const qint64 v = f.trimmed().toLongLong(&ok);
    if (!ok || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool toDouble(const QByteArray &f, double *out) {
    bool ok = false;
    const double v = f.trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(v))
        return false;
    *out = v;
    return true;
}

const char *const kRadios[] = {"GSM", "UMTS", "LTE", "CDMA", "NR"};

QString radioOf(const QByteArray &f) {
    const QByteArray u = f.trimmed().toUpper();
    for (const char *r : kRadios)
        if (u == r)
            return QString::fromLatin1(r);
    return {};
}

// One OpenCelliD row; empty string when fine, else why it is bad.
QString parseCell(const QList<QByteArray> &f, CellRow *r) {
    if (f.size() < 10)
        return QStringLiteral("%1 fields, an OpenCelliD row has at least 10").arg(f.size());
    r->radio = radioOf(f[0]);
    if (r->radio.isEmpty())
        return QStringLiteral("unknown radio '%1'").arg(QString::fromLatin1(f[0].left(20)));
    qint64 mcc, mnc, lac, cid, range = 0, samples = 0;
    if (!toInt64(f[1], 1, 999, &mcc))
        return QStringLiteral("bad MCC '%1'").arg(QString::fromLatin1(f[1].left(20)));
    if (!toInt64(f[2], 0, 999999, &mnc))
        return QStringLiteral("bad network code '%1'").arg(QString::fromLatin1(f[2].left(20)));
    if (!toInt64(f[3], 0, 0xFFFFFFFFLL, &lac))
        return QStringLiteral("bad area code '%1'").arg(QString::fromLatin1(f[3].left(20)));
    if (!toInt64(f[4], 0, (qint64(1) << 36) - 1, &cid))
        return QStringLiteral("bad cell id '%1'").arg(QString::fromLatin1(f[4].left(20)));
    double lon, lat;
    if (!toDouble(f[6], &lon) || std::fabs(lon) > 180)
        return QStringLiteral("longitude '%1' out of range").arg(QString::fromLatin1(f[6].left(20)));
    if (!toDouble(f[7], &lat) || std::fabs(lat) > 90)
        return QStringLiteral("latitude '%1' out of range").arg(QString::fromLatin1(f[7].left(20)));
    if (lat == 0 && lon == 0)
        return QStringLiteral("position 0,0 (unknown)");
    if (!f[8].trimmed().isEmpty() && !toInt64(f[8], 0, 100000000, &range))
        return QStringLiteral("bad range '%1'").arg(QString::fromLatin1(f[8].left(20)));
    if (!f[9].trimmed().isEmpty() && !toInt64(f[9], 0, 2000000000, &samples))
        return QStringLiteral("bad sample count '%1'").arg(QString::fromLatin1(f[9].left(20)));
    qint64 updated = 0;
    if (f.size() > 12 && !f[12].trimmed().isEmpty() && !toInt64(f[12], 0, 99999999999LL, &updated))
        return QStringLiteral("bad 'updated' time '%1'").arg(QString::fromLatin1(f[12].left(20)));
    r->mcc = int(mcc);
    r->mnc = int(mnc);
    r->lac = lac;
    r->cid = cid;
    r->latitude = lat;
    r->longitude = lon;
    r->range = int(range);
    r->samples = int(samples);
    r->updated = updated;
    return {};
}

struct WifiColumns {
    int bssid = -1, lat = -1, lon = -1, range = -1, type = -1;
    bool valid() const { return bssid >= 0 && lat >= 0 && lon >= 0; }
};

WifiColumns wifiColumns(const QList<QByteArray> &header) {
    WifiColumns c;
    for (int i = 0; i < header.size(); ++i) {
        const QByteArray h = header[i].trimmed().toLower();
        if (c.bssid < 0 && (h == "bssid" || h == "mac" || h == "netid" || h == "macaddress"))
            c.bssid = i;
        else if (c.lat < 0 && (h == "lat" || h == "latitude" || h == "currentlatitude" || h == "trilat"))
            c.lat = i;
        else if (c.lon < 0 && (h == "lon" || h == "lng" || h == "longitude" || h == "currentlongitude" || h == "trilong"))
            c.lon = i;
        else if (c.range < 0 && (h == "range" || h == "accuracy" || h == "accuracymeters"))
            c.range = i;
        else if (c.type < 0 && h == "type")
            c.type = i;
    }
    return c;
}

// One Wi-Fi row; empty string when fine, "skip" for rows of another kind, else why it is bad.
QString parseWifi(const QList<QByteArray> &f, const WifiColumns &c, WifiRow *r) {
    const int need = std::max({c.bssid, c.lat, c.lon, c.range, c.type}) + 1;
    if (f.size() < need)
        return QStringLiteral("%1 fields, the header names %2").arg(f.size()).arg(need);
    if (c.type >= 0) {
        const QByteArray t = f[c.type].trimmed().toUpper();
        if (!t.isEmpty() && t != "WIFI")
            return QStringLiteral("skip");
    }
    r->bssid = normaliseBssid(QString::fromLatin1(f[c.bssid]));
    if (r->bssid.isEmpty())
        return QStringLiteral("bad BSSID '%1'").arg(QString::fromLatin1(f[c.bssid].left(24)));
    if (!toDouble(f[c.lat], &r->latitude) || std::fabs(r->latitude) > 90)
        return QStringLiteral("latitude '%1' out of range").arg(QString::fromLatin1(f[c.lat].left(20)));
    if (!toDouble(f[c.lon], &r->longitude) || std::fabs(r->longitude) > 180)
        return QStringLiteral("longitude '%1' out of range").arg(QString::fromLatin1(f[c.lon].left(20)));
    if (r->latitude == 0 && r->longitude == 0)
        return QStringLiteral("position 0,0 (unknown)");
    r->range = 0;
    double range = 0;
    if (c.range >= 0 && !f[c.range].trimmed().isEmpty()) {
        if (!toDouble(f[c.range], &range) || range < 0 || range > 1e6)
            return QStringLiteral("bad range/accuracy '%1'").arg(QString::fromLatin1(f[c.range].left(20)));
        r->range = int(std::lround(range));
    }
    r->samples = 1;
    return {};
}

enum class Format { Unknown, Cells, Wifi };

} // namespace

bool importSupportsGzip() {
#ifdef TD_HAVE_ZLIB
    return true;
#else
    return false;
#endif
}

bool splitCsvLine(const QByteArray &line, QList<QByteArray> *fields) {
    fields->clear();
    QByteArray cur;
    bool quoted = false;
    const qsizetype n = line.size();
    for (qsizetype i = 0; i < n; ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < n && line[i + 1] == '"') {
                    cur += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                cur += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields->append(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    fields->append(cur);
    return !quoted;
}

QString ImportReport::summary() const {
    if (!error.isEmpty())
        return QStringLiteral("import of %1 failed: %2").arg(QFileInfo(file).fileName(), error);
    QString s = QStringLiteral("%1 (%2): %3 lines, ").arg(QFileInfo(file).fileName(), format.isEmpty() ? QStringLiteral("?") : format).arg(lines);
    if (format.startsWith(QLatin1String("OpenCelliD")))
        s += QStringLiteral("%1 cells imported").arg(cells);
    else
        s += QStringLiteral("%1 access point sightings imported").arg(wifi);
    if (skipped)
        s += QStringLiteral(", %1 rows of other kinds skipped").arg(skipped);
    s += QStringLiteral(", %1 bad lines").arg(bad);
    if (!badSamples.isEmpty())
        s += QStringLiteral(" (first: %1)").arg(badSamples.first());
    s += QStringLiteral(", %1 s").arg(elapsedMs / 1000.0, 0, 'f', 1);
    if (cancelled)
        s += QStringLiteral("; CANCELLED (the rows before stay imported)");
    return s;
}

ImportReport importGeoFile(GeoStore &store, const QString &path, const std::atomic<bool> *cancel,
                           const ImportProgress &progress, const ImportOptions &options) {
    ImportReport rep;
    rep.file = path;
    QElapsedTimer clock;
    clock.start();
    auto finish = [&]() -> ImportReport {
        rep.elapsedMs = clock.elapsed();
        return rep;
    };
    if (!store.isOpen()) {
        rep.error = QStringLiteral("the store is not open");
        return finish();
    }
    LineSource src;
    if (!src.open(path, &rep.error))
        return finish();
    rep.bytesTotal = src.size();

    Format format = Format::Unknown;
    WifiColumns cols;
    QByteArray line;
    QList<QByteArray> fields;
    qint64 lineNo = 0;
    bool truncated = false;
    // A batch is parsed first and then written in one short transaction, followed by a
    // pause as long as the transaction (10..200 ms): the tracker writer, which shares the
    // database, always finds the write lock free within a few of its busy retries.
    QList<CellRow> cellBatch;
    QList<WifiRow> wifiBatch;
    auto bad = [&](const QString &why) {
        ++rep.bad;
        if (rep.badSamples.size() < options.maxBadSamples)
            rep.badSamples << QStringLiteral("line %1: %2").arg(lineNo).arg(why);
    };
    auto report = [&] {
        rep.bytesRead = src.position();
        if (progress)
            progress(rep.bytesRead, rep.bytesTotal, rep.lines);
    };
    auto flush = [&]() -> bool {
        if (cellBatch.isEmpty() && wifiBatch.isEmpty())
            return true;
        QElapsedTimer tx;
        tx.start();
        if (!store.beginBatch()) {
            rep.error = store.lastError();
            return false;
        }
        for (const CellRow &r : std::as_const(cellBatch))
            if (!store.putCell(r)) {
                rep.error = store.lastError();
                store.rollbackBatch();
                return false;
            }
        for (const WifiRow &r : std::as_const(wifiBatch))
            if (!store.putWifi(r)) {
                rep.error = store.lastError();
                store.rollbackBatch();
                return false;
            }
        if (!store.commitBatch()) {
            rep.error = store.lastError();
            return false;
        }
        const qint64 held = tx.elapsed();
        rep.lockHeldMaxMs = std::max(rep.lockHeldMaxMs, held);
        rep.cells += cellBatch.size();
        rep.wifi += wifiBatch.size();
        cellBatch.clear();
        wifiBatch.clear();
        report();
        if (options.pauseAfterCommit)
            QThread::msleep(ulong(std::clamp<qint64>(held, 10, 200)));
        return true;
    };
    if (progress)
        progress(0, rep.bytesTotal, 0);
    while (src.readLine(&line, &truncated)) {
        ++lineNo;
        if (cancel && cancel->load(std::memory_order_relaxed)) {
            rep.cancelled = true;
            break;
        }
        if (truncated) {
            ++rep.lines;
            bad(QStringLiteral("longer than %1 bytes").arg(kMaxLine));
            continue;
        }
        if (line.trimmed().isEmpty())
            continue;
        if (format == Format::Unknown) {
            if (lineNo == 1 && line.startsWith("\xEF\xBB\xBF"))
                line.remove(0, 3);   // UTF-8 byte order mark
            if (line.startsWith("WigleWifi")) {
                rep.format = QStringLiteral("WiGLE Wi-Fi");
                continue;   // the pre-header; the column header follows
            }
            splitCsvLine(line, &fields);
            const QByteArray first = fields.value(0).trimmed().toLower();
            if (first == "radio") {
                format = Format::Cells;
                rep.format = QStringLiteral("OpenCelliD cells");
                continue;
            }
            if (!radioOf(fields.value(0)).isEmpty() && fields.size() >= 10) {
                format = Format::Cells;   // a headerless OpenCelliD file: this line is data
                rep.format = QStringLiteral("OpenCelliD cells");
            } else {
                cols = wifiColumns(fields);
                if (!cols.valid()) {
                    rep.error = QStringLiteral("unknown format: expected OpenCelliD cells "
                                               "(radio,mcc,net,area,cell,unit,lon,lat,range,samples,...) or a Wi-Fi CSV "
                                               "whose header names bssid, lat and lon columns");
                    return finish();
                }
                format = Format::Wifi;
                if (rep.format.isEmpty())
                    rep.format = QStringLiteral("Wi-Fi CSV");
                continue;
            }
        }
        ++rep.lines;
        if (!splitCsvLine(line, &fields)) {
            bad(QStringLiteral("unterminated quote"));
            continue;
        }
        if (format == Format::Cells) {
            CellRow r;
            const QString why = parseCell(fields, &r);
            if (!why.isEmpty()) {
                bad(why);
                continue;
            }
            cellBatch << r;
        } else {
            WifiRow r;
            const QString why = parseWifi(fields, cols, &r);
            if (why == QLatin1String("skip")) {
                ++rep.skipped;
                continue;
            }
            if (!why.isEmpty()) {
                bad(why);
                continue;
            }
            wifiBatch << r;
        }
        if (cellBatch.size() + wifiBatch.size() >= options.batchRows && !flush())
            return finish();
    }
    // Cancelled: the parsed rows not yet written are dropped (the report counts stored rows).
    if (!rep.cancelled && !flush())
        return finish();
    if (!src.error().isEmpty() && !rep.cancelled) {
        rep.error = QStringLiteral("%1 (after line %2; the lines before are imported)").arg(src.error()).arg(lineNo);
        return finish();
    }
    if (format == Format::Unknown && !rep.cancelled) {
        rep.error = QStringLiteral("the file has no data lines");
        return finish();
    }
    report();
    return finish();
}

} // namespace td::geo
