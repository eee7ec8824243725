// Buffered, locale-free text output for the exporters.
//
// OutBuffer collects bytes in a fixed buffer and writes it to a QIODevice when full, so
// writers append small pieces cheaply and memory stays flat however long the export.
// The first write error is kept (errorString()) and every later append is a no-op, so a
// writer needs no error checks of its own; the export job looks at failed() as it goes.
// Numbers are formatted with std::to_chars: never a locale decimal comma.
//
// SpillBuffer is an OutBuffer whose device is a temporary file created on the first
// overflow: small contents stay in memory, large ones go to disk. Writers that must
// emit data in a different order than it arrives (KML gx:Track: all <when> first, then
// all <gx:coord>; GeoJSON: times and coordinates in separate arrays) use it.
#pragma once

#include <QByteArray>
#include <QIODevice>
#include <QString>
#include <QStringView>
#include <memory>
#include <vector>

class QTemporaryFile;

namespace td::exporter {

// Locale-free number text, as OutBuffer::appendFixed / appendTrimmed write it.
QByteArray fixedNumber(double v, int decimals);
QByteArray trimmedNumber(double v, int decimals);
// Escaped text, as OutBuffer::appendXmlText / appendJsonString / appendCsvField write it.
QByteArray xmlEscaped(QStringView text);
QByteArray jsonQuoted(QStringView text);
QByteArray csvEscaped(QStringView text);

class OutBuffer {
public:
    static constexpr qsizetype DefaultCapacity = 256 * 1024;

    // `device` must be open for writing (not owned). nullptr: a spill buffer (see below).
    explicit OutBuffer(QIODevice *device, qsizetype capacity = DefaultCapacity);
    virtual ~OutBuffer();
    OutBuffer(const OutBuffer &) = delete;
    OutBuffer &operator=(const OutBuffer &) = delete;

    void append(const char *data, qsizetype length);
    void append(QByteArrayView bytes) { append(bytes.data(), bytes.size()); }
    void append(char c) {
        if (m_len < m_cap) m_buf[size_t(m_len++)] = c;
        else append(&c, 1);
    }

    // Numbers, without locale.
    void appendInt(qint64 v);
    // Fixed notation with exactly `decimals` digits after the point ("-0.0000000" -> "0.0000000").
    void appendFixed(double v, int decimals);
    // Fixed notation with at most `decimals` digits, trailing zeros removed ("12.5", "3").
    void appendTrimmed(double v, int decimals);
    // ISO 8601 UTC: "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250Z" (ms only when set).
    void appendIsoTime(qint64 msecsSinceEpoch);

    // Text with escaping. Characters XML 1.0 forbids (most C0 controls, U+FFFE/FFFF,
    // lone surrogates) are dropped: device names come from users and the network.
    void appendXmlText(QStringView text);      // escapes & < > " '
    void appendJsonString(QStringView text);   // with the quotes
    void appendCsvField(QStringView text);     // RFC 4180: quoted when needed

    // Writes the buffer to the device. False on error (or when failed earlier).
    bool flush();
    bool failed() const { return !m_error.isEmpty(); }
    QString errorString() const { return m_error; }
    void setError(const QString &error);   // keeps the first error

    // Bytes appended so far (written + buffered).
    qint64 position() const { return m_flushed + m_len; }

    // Space reserved now and filled in later (GPX <bounds>: known only at the end).
    // Works when the device is random access; canPatch() says so.
    bool canPatch() const;
    qint64 reserve(qsizetype length, char fill = ' ');
    bool patch(qint64 offset, QByteArrayView bytes);

protected:
    virtual QIODevice *device();            // the spill buffer creates its file lazily
    QIODevice *m_device;

private:
    std::vector<char> m_buf;
    char *m_bufData = nullptr;
    qsizetype m_len = 0;
    qsizetype m_cap;
    qint64 m_flushed = 0;
    QString m_error;
    friend class SpillBuffer;
};

class SpillBuffer : public OutBuffer {
public:
    // The temporary file, if one is needed, goes into `directory` (empty: the system
    // temporary folder). Putting it beside the target keeps big exports off a tmpfs.
    explicit SpillBuffer(const QString &directory = QString(), qsizetype capacity = 1024 * 1024);
    ~SpillBuffer() override;

    bool isEmpty() const { return position() == 0; }
    // Appends everything collected to `out` and empties this buffer. False on a read or
    // write error (set on `out`).
    bool moveTo(OutBuffer &out);

protected:
    QIODevice *device() override;

private:
    QString m_dir;
    std::unique_ptr<QTemporaryFile> m_file;
};

} // namespace td::exporter
