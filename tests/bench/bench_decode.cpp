// bench_decode: frames decoded per second on the real vectors of every protocol, beside
// a baseline measured in the same run that only computes CRC-16/X-25 over the same bytes.
//
//   bench_decode [DATA_DIR] [--seconds S] [--runs N] [--profile PROTO]
//
// Reads every DATA_DIR/*_vectors.tsv (default: TD_TEST_DATA), takes the "hex" column, picks
// the protocol of each frame with td::proto::sniffProtocol (rows no protocol claims are
// skipped and counted) and decodes each frame with Protocol::decodeFrame twice over: the full
// annotated decode (fields and all: inspector, CLI) and the fast path the live server uses
// (SessionOptions::annotate = false, summarize = false: message, replies, warnings; no field
// tree, no summary text). Target: decoding costs at most 3x the CRC-only pass. Build it in
// Release to measure. The per-protocol runs also time "fast+summary" (summarize = true: the
// server while an inspector shows its frames makes the summary with Protocol::summary()).
//
// A third pass per protocol, "floor", shows what the shared model costs by itself: the CRC
// once plus building the fast decode's exact results (DecodedFrame, positions with their
// cell/Wi-Fi lists, status, alarms, texts, reply bytes) into fresh containers, with
// no parsing at all. No decoder that returns this model can be cheaper than that.
// --runs N repeats the per-protocol passes N times and prints the spread of the ratios
// (the machine is shared: ratios measured in the same run are what counts).
// --profile PROTO runs only PROTO's fast pass for S seconds (to look at it under perf).
#include "trackerdesk/protocol/checksum.h"
#include "trackerdesk/protocol/protocol.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QMap>

#include <algorithm>
#include <cstdio>

using namespace td::proto;

namespace {

struct Sample {
    QByteArray bytes;
    const Protocol *protocol = nullptr;
};

QList<QByteArray> hexColumn(const QString &path) {
    QList<QByteArray> out;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return out;
    const QList<QByteArray> lines = f.readAll().split('\n');
    const QList<QByteArray> header = lines.value(0).trimmed().split('\t');
    const int col = int(header.indexOf("hex"));
    if (col < 0)
        return out;
    for (int i = 1; i < lines.size(); ++i) {
        const QList<QByteArray> cells = lines[i].split('\t');
        if (cells.size() <= col || cells[col].trimmed().isEmpty())
            continue;
        const QByteArray b = QByteArray::fromHex(cells[col].trimmed());
        if (!b.isEmpty())
            out << b;
    }
    return out;
}

// Runs `pass` repeatedly for about `seconds`; returns passes per second.
template <typename F>
double rate(double seconds, F pass) {
    QElapsedTimer t;
    t.start();
    qint64 passes = 0;
    while (t.nsecsElapsed() < qint64(seconds * 1e9) || passes < 3) {
        pass();
        ++passes;
    }
    return double(passes) / (double(t.nsecsElapsed()) / 1e9);
}

QString copyOf(const QString &s) { return s.isNull() ? QString() : QString(s.constData(), s.size()); }
QStringList copyOf(const QStringList &l) {
    QStringList out;
    out.reserve(l.size());
    for (const QString &s : l)
        out.append(copyOf(s));
    return out;
}

// The "floor" pass for one frame: CRC once, then the fast decode's results `ref` rebuilt into
// fresh containers (same allocations a decoder makes; the static type name is shared).
DecodedFrame materialise(const QByteArray &bytes, const DecodedFrame &ref, quint32 *acc) {
    DecodedFrame d;
    d.bytes = bytes;
    *acc += crc16X25(bytes.constData(), bytes.size());
    d.protocol = ref.protocol;
    d.type = ref.type;
    d.typeName = ref.typeName;
    d.summary = copyOf(ref.summary);
    d.serial = ref.serial;
    d.warnings = copyOf(ref.warnings);
    const Message &rm = ref.message;
    Message &m = d.message;
    m.kind = rm.kind;
    m.deviceId = copyOf(rm.deviceId);
    m.model = copyOf(rm.model);
    m.timeZoneMinutes = rm.timeZoneMinutes;
    m.positions.reserve(rm.positions.size());
    for (const Position &rp : rm.positions) {
        Position p = rp;
        p.cells = QList<CellTower>();
        p.cells.reserve(rp.cells.size());
        for (const CellTower &c : rp.cells)
            p.cells.append(c);
        p.wifi = QList<WifiAccessPoint>();
        p.wifi.reserve(rp.wifi.size());
        for (const WifiAccessPoint &w : rp.wifi)
            p.wifi.append(WifiAccessPoint{copyOf(w.bssid), w.rssi});
        m.positions.append(std::move(p));
    }
    m.status = rm.status;
    m.alarms = copyOf(rm.alarms);
    m.text = copyOf(rm.text);
    m.authCode = copyOf(rm.authCode);
    for (const QByteArray &r : ref.replies)
        d.replies.append(QByteArray(r.constData(), r.size()));
    return d;
}

double median(QList<double> v) {
    std::sort(v.begin(), v.end());
    return v.isEmpty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
    QCoreApplication app(argc, argv);
    QString dir = QStringLiteral(TD_TEST_DATA);
    double seconds = 2.0;
    int runs = 1;
    QString byType;   // --by-type PROTO: fast decode against CRC per message type of PROTO
    QString profile;  // --profile PROTO: only the fast pass of PROTO, for `seconds` (to run under perf)
    const QStringList args = app.arguments().mid(1);
    for (int i = 0; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--seconds") && i + 1 < args.size())
            seconds = args[++i].toDouble();
        else if (args[i] == QLatin1String("--runs") && i + 1 < args.size())
            runs = std::max(1, args[++i].toInt());
        else if (args[i] == QLatin1String("--profile") && i + 1 < args.size())
            profile = args[++i];
        else if (args[i] == QLatin1String("--by-type") && i + 1 < args.size())
            byType = args[++i];
        else
            dir = args[i];
    }

    QList<Sample> samples;
    QMap<QString, int> perProtocol;
    int skipped = 0;
    const QStringList files = QDir(dir).entryList({QStringLiteral("*_vectors.tsv")}, QDir::Files, QDir::Name);
    for (const QString &file : files) {
        for (const QByteArray &b : hexColumn(QDir(dir).filePath(file))) {
            bool more = false;
            const Protocol *p = sniffProtocol(b, &more);
            if (!p) {
                ++skipped;
                continue;
            }
            samples << Sample{b, p};
            perProtocol[p->id()]++;
        }
    }
    if (samples.isEmpty()) {
        std::fprintf(stderr, "bench_decode: no frames found in %s/*_vectors.tsv\n", qPrintable(dir));
        return 1;
    }
    qint64 totalBytes = 0;
    for (const Sample &s : samples)
        totalBytes += s.bytes.size();

    std::printf("bench_decode: %lld frames (%lld bytes) from %s (%s)\n", qint64(samples.size()), totalBytes,
                qPrintable(files.join(QStringLiteral(", "))), qPrintable(dir));
    for (auto it = perProtocol.cbegin(); it != perProtocol.cend(); ++it)
        std::printf("  %-8s %d frames\n", qPrintable(it.key()), it.value());
    if (skipped)
        std::printf("  (%d rows skipped: no protocol sniffed)\n", skipped);

    volatile quint32 sink = 0;
    const SessionOptions opts;
    SessionOptions fastOpts;
    fastOpts.annotate = false;   // what the server does (TrackerServer)
    fastOpts.summarize = false;
    SessionOptions summaryOpts = fastOpts;   // the server while an inspector shows its frames
    summaryOpts.summarize = true;
    // Warm-up (first-use statics, allocator).
    for (const Sample &s : samples) {
        sink = sink + quint32(s.protocol->decodeFrame(s.bytes, opts).fields.size());
        sink = sink + quint32(s.protocol->decodeFrame(s.bytes, fastOpts).message.positions.size());
    }

    if (!byType.isEmpty()) {
        // Per message type of one protocol: fast decode and CRC ns/frame, ratio, frame count.
        QMap<int, QList<Sample>> groups;
        for (const Sample &s : std::as_const(samples))
            if (s.protocol->id() == byType)
                groups[s.protocol->decodeFrame(s.bytes, fastOpts).type] << s;
        for (auto it = groups.cbegin(); it != groups.cend(); ++it) {
            const QList<Sample> &g = it.value();
            const double c = rate(seconds, [&] {
                quint32 acc = 0;
                for (const Sample &s : g)
                    acc += crc16X25(s.bytes.constData(), s.bytes.size());
                sink = sink + acc;
            });
            const double q = rate(seconds, [&] {
                quint32 acc = 0;
                for (const Sample &s : g)
                    acc += quint32(s.protocol->decodeFrame(s.bytes, fastOpts).message.positions.size());
                sink = sink + acc;
            });
            const DecodedFrame f = g.first().protocol->decodeFrame(g.first().bytes, fastOpts);
            std::printf("  type 0x%02X %-28s %3lld frames  CRC %6.1f ns  fast %7.1f ns  %5.1fx\n", it.key(),
                        qPrintable(f.typeName.left(28)), qint64(g.size()), 1e9 / (c * g.size()), 1e9 / (q * g.size()), c / q);
        }
        return 0;
    }
    if (!profile.isEmpty()) {
        QList<Sample> only;
        for (const Sample &s : std::as_const(samples))
            if (s.protocol->id() == profile)
                only << s;
        if (only.isEmpty()) {
            std::fprintf(stderr, "bench_decode: no %s frames\n", qPrintable(profile));
            return 1;
        }
        const double passes = rate(seconds, [&] {
            quint32 acc = 0;
            for (const Sample &s : std::as_const(only))
                acc += quint32(s.protocol->decodeFrame(s.bytes, fastOpts).message.positions.size());
            sink = sink + acc;
        });
        std::printf("%s fast decode only: %.0f frames/s (%.1f ns/frame)\n", qPrintable(profile), passes * double(only.size()),
                    1e9 / (passes * double(only.size())));
        return 0;
    }

    const double crcPasses = rate(seconds, [&] {
        quint32 acc = 0;
        for (const Sample &s : samples)
            acc += crc16X25(s.bytes.constData(), s.bytes.size());
        sink = sink + acc;
    });
    qint64 fields = 0;
    const double decodePasses = rate(seconds, [&] {
        quint32 acc = 0;
        for (const Sample &s : samples) {
            const DecodedFrame f = s.protocol->decodeFrame(s.bytes, opts);
            acc += quint32(f.fields.size());
        }
        fields = acc;
        sink = sink + acc;
    });
    // The fast path must do the real work: count what it produced so it cannot be skipped.
    qint64 produced = 0;
    const double fastPasses = rate(seconds, [&] {
        quint32 acc = 0;
        for (const Sample &s : samples) {
            const DecodedFrame f = s.protocol->decodeFrame(s.bytes, fastOpts);
            acc += quint32(f.message.positions.size() + f.replies.size() + f.warnings.size() + f.fields.size());
        }
        produced = acc;
        sink = sink + acc;
    });

    const double n = double(samples.size());
    const double crcRate = crcPasses * n, decodeRate = decodePasses * n, fastRate = fastPasses * n;
    std::printf("CRC-16/X-25 only : %12.0f frames/s  (%8.1f ns/frame, %7.1f MB/s)\n", crcRate, 1e9 / crcRate,
                crcPasses * double(totalBytes) / 1e6);
    std::printf("full decode      : %12.0f frames/s  (%8.1f ns/frame, %lld top-level fields per pass)\n", decodeRate,
                1e9 / decodeRate, fields);
    std::printf("fast decode      : %12.0f frames/s  (%8.1f ns/frame, annotate=false, summarize=false: %lld positions+replies+warnings per pass)\n",
                fastRate, 1e9 / fastRate, produced);
    const double ratio = crcRate / decodeRate, fastRatio = crcRate / fastRate;
    std::printf("full decode cost : %.1fx the CRC-only pass (all protocols together)\n", ratio);
    std::printf("fast decode cost : %.1fx the CRC-only pass (all protocols together; per protocol below)\n", fastRatio);
    // Per protocol, to see which decoder dominates; the floor pass beside them.
    struct Spread {
        QList<double> fast, summary, full, floor;
    };
    QMap<QString, Spread> spread;
    for (int run = 1; run <= runs; ++run) {
        if (runs > 1)
            std::printf("run %d of %d\n", run, runs);
        for (auto it = perProtocol.cbegin(); it != perProtocol.cend(); ++it) {
            QList<Sample> sub;
            QList<DecodedFrame> ref;
            for (const Sample &s : samples) {
                if (s.protocol->id() == it.key()) {
                    sub << s;
                    ref << s.protocol->decodeFrame(s.bytes, fastOpts);
                }
            }
            const double c = rate(seconds / 2, [&] {
                quint32 acc = 0;
                for (const Sample &s : sub)
                    acc += crc16X25(s.bytes.constData(), s.bytes.size());
                sink = sink + acc;
            });
            const double d = rate(seconds / 2, [&] {
                quint32 acc = 0;
                for (const Sample &s : sub)
                    acc += quint32(s.protocol->decodeFrame(s.bytes, opts).fields.size());
                sink = sink + acc;
            });
            const double q = rate(seconds / 2, [&] {
                quint32 acc = 0;
                for (const Sample &s : sub)
                    acc += quint32(s.protocol->decodeFrame(s.bytes, fastOpts).message.positions.size());
                sink = sink + acc;
            });
            const double qs = rate(seconds / 2, [&] {
                quint32 acc = 0;
                for (const Sample &s : sub)
                    acc += quint32(s.protocol->decodeFrame(s.bytes, summaryOpts).summary.size());
                sink = sink + acc;
            });
            const double fl = rate(seconds / 2, [&] {
                quint32 acc = 0;
                for (int i = 0; i < sub.size(); ++i) {
                    const DecodedFrame f = materialise(sub[i].bytes, ref[i], &acc);
                    acc += quint32(f.message.positions.size() + f.replies.size());
                }
                sink = sink + acc;
            });
            const double m = double(sub.size());
            std::printf("  %-8s CRC only %10.0f frames/s; full %10.0f frames/s (%7.1f ns, %.1fx); fast %10.0f frames/s (%7.1f ns, %.1fx); "
                        "fast+summary %.1fx; floor %.1fx\n",
                        qPrintable(it.key()), c * m, d * m, 1e9 / (d * m), c / d, q * m, 1e9 / (q * m), c / q, c / qs, c / fl);
            Spread &sp = spread[it.key()];
            sp.full << c / d;
            sp.fast << c / q;
            sp.summary << c / qs;
            sp.floor << c / fl;
        }
    }
    // The target (at most 3x the CRC pass) is the server's decode of each protocol: the
    // median fast / CRC ratio of the runs.
    for (auto it = spread.cbegin(); it != spread.cend(); ++it) {
        const double m = median(it.value().fast);
        std::printf("%-8s fast decode cost: %.1fx the CRC-only pass (median of %d run(s); target <= 3x: %s)\n",
                    qPrintable(it.key()), m, runs, m <= 3.0 ? "met" : "NOT met");
    }
    if (runs > 1) {
        std::printf("ratio to the CRC-only pass over %d runs (min / median / max):\n", runs);
        for (auto it = spread.cbegin(); it != spread.cend(); ++it) {
            const Spread &sp = it.value();
            auto line = [](const QList<double> &v) {
                return QStringLiteral("%1 / %2 / %3").arg(*std::min_element(v.begin(), v.end()), 0, 'f', 1)
                    .arg(median(v), 0, 'f', 1).arg(*std::max_element(v.begin(), v.end()), 0, 'f', 1);
            };
            std::printf("  %-8s fast %s   fast+summary %s   full %s   floor %s\n", qPrintable(it.key()), qPrintable(line(sp.fast)),
                        qPrintable(line(sp.summary)), qPrintable(line(sp.full)), qPrintable(line(sp.floor)));
        }
    }
#ifndef NDEBUG
    std::printf("note: this is not a Release build; measure with -DCMAKE_BUILD_TYPE=Release\n");
#endif
    return 0;
}
