// ModemLog: the AT dialogue with the GSM modem, as a list model for the SMS console's
// "Modem log" tab (and `--modem-trace` in headless mode prints the same lines).
//
// One row per line: what TrackerDesk wrote (commands, the PDU after the prompt, <ESC>),
// what the modem answered (echo, responses, final results, unsolicited codes) and notes of
// the engine's state changes, each with its time. The SIM PIN never appears (the engine
// masks it before the line gets here). Bounded: past `capacity` lines the oldest go, so a
// modem that chatters for weeks costs a fixed amount of memory.
#pragma once

#include <QAbstractListModel>
#include <QByteArray>
#include <QList>
#include <QString>

namespace td::sms {

class ModemLog : public QAbstractListModel {
    Q_OBJECT
public:
    enum class Kind { ToModem, FromModem, Note };
    struct Entry {
        qint64 timeMs = 0;   // UTC
        Kind kind = Kind::Note;
        QString text;
    };
    enum Roles { TimeRole = Qt::UserRole + 1, KindRole, TextRole };

    explicit ModemLog(int capacity = 2000, QObject *parent = nullptr);

    int capacity() const { return m_capacity; }
    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    const Entry &at(int row) const { return m_entries.at(row); }
    // A line of the dialogue: bytes as the modem engine reports them (control characters and
    // bytes outside printable ASCII shown as <0xNN>).
    void addTraffic(bool toModem, const QByteArray &line, qint64 timeMs = -1);
    void addNote(const QString &text, qint64 timeMs = -1);
    void clear();
    // Lines dropped because the log was full since the last clear().
    qint64 dropped() const { return m_dropped; }

    // "12:03:04.512 > AT+CSQ" (local time): one row as shown and copied.
    static QString formatLine(const Entry &e);
    // The same without the time: "> AT+CSQ", "< OK", "-- Ready".
    static QString marked(const Entry &e);
    // Every row, one per line (Copy, saving a log for a bug report).
    QString text() const;
    // The printable form of raw modem bytes.
    static QString printable(const QByteArray &line);

signals:
    void lineAdded(const td::sms::ModemLog::Entry &entry);

private:
    void append(Entry e);

    int m_capacity;
    QList<Entry> m_entries;
    qint64 m_dropped = 0;
};

} // namespace td::sms
