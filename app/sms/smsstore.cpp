#include "sms/smsstore.h"

#include "sms/numbers.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QTimeZone>
#include <QVariant>

namespace td::sms {

namespace {

const char kColumns[] = "id, direction, device_id, number, text, channel, state, created, sent, done, scts, scts_offset, "
                        "parts, error, attempts, next_attempt, pdus, reply_to, positions";

// A null QString binds as SQL NULL; the text columns are NOT NULL.
QString nn(const QString &s) { return s.isNull() ? QString(QLatin1String("")) : s; }
QVariant msOrNull(const QDateTime &t) { return t.isValid() ? QVariant(t.toMSecsSinceEpoch()) : QVariant(QMetaType::fromType<qint64>()); }
QVariant idOrNull(qint64 id) { return id > 0 ? QVariant(id) : QVariant(QMetaType::fromType<qint64>()); }
QDateTime utc(const QVariant &v) { return v.isNull() ? QDateTime() : QDateTime::fromMSecsSinceEpoch(v.toLongLong(), QTimeZone::UTC); }

QString pdusText(const QList<QByteArray> &pdus) {
    QStringList lines;
    for (const QByteArray &p : pdus)
        lines << QString::fromLatin1(p.toHex().toUpper());
    return nn(lines.join(QLatin1Char('\n')));
}

QList<QByteArray> pdusFromText(const QString &text) {
    QList<QByteArray> out;
    for (const QString &line : text.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
        out << QByteArray::fromHex(line.toLatin1());
    return out;
}

Message fromQuery(const QSqlQuery &q) {
    Message m;
    m.id = q.value(0).toLongLong();
    m.direction = q.value(1).toInt() == 1 ? Direction::Sent : Direction::Received;
    m.deviceId = q.value(2).isNull() ? 0 : q.value(2).toLongLong();
    m.number = q.value(3).toString();
    m.text = q.value(4).toString();
    m.channel = channelFromName(q.value(5).toString()).value_or(Channel::Sms);
    m.state = stateFromName(q.value(6).toString()).value_or(State::Failed);
    m.created = utc(q.value(7));
    m.sent = utc(q.value(8));
    m.done = utc(q.value(9));
    if (!q.value(10).isNull())
        m.scts = QDateTime::fromMSecsSinceEpoch(q.value(10).toLongLong(),
                                                QTimeZone::fromSecondsAheadOfUtc(q.value(11).toInt()));
    m.parts = q.value(12).toInt();
    m.error = q.value(13).toString();
    m.attempts = q.value(14).toInt();
    m.nextAttempt = utc(q.value(15));
    m.pdus = pdusFromText(q.value(16).toString());
    m.replyTo = q.value(17).isNull() ? 0 : q.value(17).toLongLong();
    m.positions = q.value(18).toInt();
    return m;
}

} // namespace

QString channelName(Channel c) { return c == Channel::Gprs ? QStringLiteral("gprs") : QStringLiteral("sms"); }

std::optional<Channel> channelFromName(const QString &name) {
    if (name == QLatin1String("sms")) return Channel::Sms;
    if (name == QLatin1String("gprs")) return Channel::Gprs;
    return std::nullopt;
}

QString stateName(State s) {
    switch (s) {
    case State::Queued: return QStringLiteral("queued");
    case State::Sending: return QStringLiteral("sending");
    case State::Sent: return QStringLiteral("sent");
    case State::Delivered: return QStringLiteral("delivered");
    case State::Failed: return QStringLiteral("failed");
    case State::Received: return QStringLiteral("received");
    }
    return {};
}

std::optional<State> stateFromName(const QString &name) {
    for (State s : {State::Queued, State::Sending, State::Sent, State::Delivered, State::Failed, State::Received})
        if (stateName(s) == name)
            return s;
    return std::nullopt;
}

bool SmsStore::fail(const QString &what, const QString &error) {
    m_error = QStringLiteral("%1: %2").arg(what, error);
    return false;
}

qint64 SmsStore::insert(const Message &m) { return insertReceived(m, {}); }

qint64 SmsStore::insertReceived(const Message &m, const QList<qint64> &partIds) {
    QSqlDatabase db = m_store.database();
    if (!db.isOpen()) {
        fail(QStringLiteral("storing an SMS"), QStringLiteral("the store is not open"));
        return 0;
    }
    if (!db.transaction()) {
        fail(QStringLiteral("storing an SMS"), db.lastError().text());
        return 0;
    }
    qint64 id = 0;
    {
        QSqlQuery q(db);
        q.prepare(QStringLiteral("INSERT INTO sms_messages(direction, device_id, number, text, channel, state, created, sent, done,"
                                 " scts, scts_offset, parts, error, attempts, next_attempt, pdus, reply_to, positions)"
                                 " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
        q.addBindValue(m.direction == Direction::Sent ? 1 : 0);
        q.addBindValue(idOrNull(m.deviceId));
        q.addBindValue(nn(m.number));
        q.addBindValue(nn(m.text));
        q.addBindValue(channelName(m.channel));
        q.addBindValue(stateName(m.state));
        q.addBindValue(m.created.isValid() ? m.created.toMSecsSinceEpoch() : QDateTime::currentMSecsSinceEpoch());
        q.addBindValue(msOrNull(m.sent));
        q.addBindValue(msOrNull(m.done));
        q.addBindValue(msOrNull(m.scts));
        q.addBindValue(m.scts.isValid() ? QVariant(m.scts.offsetFromUtc()) : QVariant(QMetaType::fromType<int>()));
        q.addBindValue(qMax(1, m.parts));
        q.addBindValue(nn(m.error));
        q.addBindValue(m.attempts);
        q.addBindValue(msOrNull(m.nextAttempt));
        q.addBindValue(pdusText(m.pdus));
        q.addBindValue(idOrNull(m.replyTo));
        q.addBindValue(m.positions);
        bool ok = q.exec();
        QString err = ok ? QString() : q.lastError().text();
        if (ok) {
            id = q.lastInsertId().toLongLong();
            for (const PartReference &r : m.references) {
                QSqlQuery rq(db);
                rq.prepare(QStringLiteral("INSERT INTO sms_refs(message_id, part, mr, status, report_time) VALUES(?,?,?,?,?)"));
                rq.addBindValue(id);
                rq.addBindValue(r.part);
                rq.addBindValue(r.reference);
                rq.addBindValue(r.status ? QVariant(*r.status) : QVariant(QMetaType::fromType<int>()));
                rq.addBindValue(msOrNull(r.reportTime));
                if (!rq.exec()) {
                    ok = false;
                    err = rq.lastError().text();
                    break;
                }
            }
            for (qint64 part : partIds) {
                if (!ok)
                    break;
                QSqlQuery pq(db);
                pq.prepare(QStringLiteral("UPDATE sms_inbox_parts SET message_id=? WHERE id=?"));
                pq.addBindValue(id);
                pq.addBindValue(part);
                if (!pq.exec()) {
                    ok = false;
                    err = pq.lastError().text();
                }
            }
        }
        q.finish();
        if (!ok) {
            fail(QStringLiteral("storing an SMS"), err);
            db.rollback();
            return 0;
        }
    }
    if (!db.commit()) {
        fail(QStringLiteral("storing an SMS"), db.lastError().text());
        db.rollback();
        return 0;
    }
    return id;
}

bool SmsStore::loadReferences(Message &m) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT part, mr, status, report_time FROM sms_refs WHERE message_id=? ORDER BY part"));
    q.addBindValue(m.id);
    if (!q.exec())
        return fail(QStringLiteral("reading SMS references"), q.lastError().text());
    m.references.clear();
    while (q.next()) {
        PartReference r;
        r.part = q.value(0).toInt();
        r.reference = q.value(1).toInt();
        if (!q.value(2).isNull())
            r.status = q.value(2).toInt();
        r.reportTime = utc(q.value(3));
        m.references << r;
    }
    return true;
}

std::optional<Message> SmsStore::message(qint64 id) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT %1 FROM sms_messages WHERE id=?").arg(QLatin1String(kColumns)));
    q.addBindValue(id);
    if (!q.exec()) {
        fail(QStringLiteral("reading an SMS"), q.lastError().text());
        return std::nullopt;
    }
    if (!q.next()) {
        m_error = QStringLiteral("no SMS with id %1").arg(id);
        return std::nullopt;
    }
    Message m = fromQuery(q);
    q.finish();
    if (!loadReferences(m))
        return std::nullopt;
    return m;
}

QList<Message> SmsStore::messages(const MessageFilter &f) {
    QStringList where;
    QVariantList binds;
    if (f.deviceId) {
        if (*f.deviceId == 0) {
            where << QStringLiteral("device_id IS NULL");
        } else {
            where << QStringLiteral("device_id=?");
            binds << *f.deviceId;
        }
    }
    if (f.direction) {
        where << QStringLiteral("direction=?");
        binds << (*f.direction == Direction::Sent ? 1 : 0);
    }
    if (f.beforeId > 0) {
        where << QStringLiteral("id<?");
        binds << f.beforeId;
    }
    QString sql = QStringLiteral("SELECT %1 FROM sms_messages").arg(QLatin1String(kColumns));
    if (!where.isEmpty())
        sql += QStringLiteral(" WHERE ") + where.join(QStringLiteral(" AND "));
    sql += QStringLiteral(" ORDER BY id DESC");
    // A number filter matches numbers in any written form: filtered here, not in SQL.
    if (f.limit > 0 && f.number.isEmpty())
        sql += QStringLiteral(" LIMIT %1").arg(f.limit);
    QSqlQuery q(m_store.database());
    q.setForwardOnly(true);
    q.prepare(sql);
    for (const QVariant &b : binds)
        q.addBindValue(b);
    QList<Message> out;
    if (!q.exec()) {
        fail(QStringLiteral("listing SMS"), q.lastError().text());
        return out;
    }
    while (q.next()) {
        Message m = fromQuery(q);
        if (!f.number.isEmpty() && numberMatch(m.number, f.number) == 0)
            continue;
        out << m;
        if (f.limit > 0 && out.size() >= f.limit)
            break;
    }
    q.finish();
    for (Message &m : out)
        if (m.direction == Direction::Sent)
            loadReferences(m);
    return out;
}

QList<SmsStore::Conversation> SmsStore::conversations() {
    QList<Conversation> out;
    QSqlQuery q(m_store.database());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT device_id, CASE WHEN device_id IS NULL THEN number ELSE '' END AS n,"
                               " MAX(created), COUNT(*) FROM sms_messages GROUP BY device_id, n ORDER BY MAX(created) DESC"))) {
        fail(QStringLiteral("listing SMS conversations"), q.lastError().text());
        return out;
    }
    while (q.next()) {
        Conversation c;
        c.deviceId = q.value(0).isNull() ? 0 : q.value(0).toLongLong();
        c.number = q.value(1).toString();
        c.last = utc(q.value(2));
        c.count = q.value(3).toInt();
        out << c;
    }
    return out;
}

std::optional<Message> SmsStore::nextDue(qint64 nowMs) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT %1 FROM sms_messages WHERE state='queued' AND channel='sms'"
                             " AND (next_attempt IS NULL OR next_attempt<=?) ORDER BY id LIMIT 1")
                  .arg(QLatin1String(kColumns)));
    q.addBindValue(nowMs);
    if (!q.exec()) {
        fail(QStringLiteral("reading the SMS outbox"), q.lastError().text());
        return std::nullopt;
    }
    if (!q.next())
        return std::nullopt;
    return fromQuery(q);
}

std::optional<qint64> SmsStore::nextAttemptAfter(qint64 nowMs) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT MIN(next_attempt) FROM sms_messages WHERE state='queued' AND channel='sms' AND next_attempt>?"));
    q.addBindValue(nowMs);
    if (!q.exec() || !q.next() || q.value(0).isNull())
        return std::nullopt;
    return q.value(0).toLongLong();
}

int SmsStore::countInState(State s, std::optional<Channel> channel) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT COUNT(*) FROM sms_messages WHERE state=?%1")
                  .arg(channel ? QStringLiteral(" AND channel=?") : QString()));
    q.addBindValue(stateName(s));
    if (channel)
        q.addBindValue(channelName(*channel));
    if (!q.exec() || !q.next()) {
        fail(QStringLiteral("counting SMS"), q.lastError().text());
        return -1;
    }
    return q.value(0).toInt();
}

bool SmsStore::markSending(qint64 id, const QList<QByteArray> &pdus, qint64) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("UPDATE sms_messages SET state='sending', attempts=attempts+1, pdus=?, parts=?, sent=NULL"
                             " WHERE id=? AND state='queued'"));
    q.addBindValue(pdusText(pdus));
    q.addBindValue(qMax(1, int(pdus.size())));
    q.addBindValue(id);
    if (!q.exec())
        return fail(QStringLiteral("marking an SMS as sending"), q.lastError().text());
    if (q.numRowsAffected() != 1) {
        m_error = QStringLiteral("SMS %1 is not queued").arg(id);
        return false;
    }
    return true;
}

bool SmsStore::markSent(qint64 id, const QList<int> &references, qint64 nowMs) {
    QSqlDatabase db = m_store.database();
    if (!db.transaction())
        return fail(QStringLiteral("marking an SMS as sent"), db.lastError().text());
    QSqlQuery q(db);
    bool ok = true;
    q.prepare(QStringLiteral("UPDATE sms_messages SET state='sent', sent=?, error='' WHERE id=?"));
    q.addBindValue(nowMs);
    q.addBindValue(id);
    ok = q.exec();
    if (ok) {
        q.prepare(QStringLiteral("DELETE FROM sms_refs WHERE message_id=?"));
        q.addBindValue(id);
        ok = q.exec();
    }
    for (int i = 0; ok && i < references.size(); ++i) {
        q.prepare(QStringLiteral("INSERT INTO sms_refs(message_id, part, mr) VALUES(?,?,?)"));
        q.addBindValue(id);
        q.addBindValue(i);
        q.addBindValue(references[i]);
        ok = q.exec();
    }
    if (!ok) {
        const QString e = q.lastError().text();
        q.finish();
        db.rollback();
        return fail(QStringLiteral("marking an SMS as sent"), e);
    }
    q.finish();
    if (!db.commit()) {
        db.rollback();
        return fail(QStringLiteral("marking an SMS as sent"), db.lastError().text());
    }
    return true;
}

bool SmsStore::requeue(qint64 id, const QString &reason, qint64 nextMs) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("UPDATE sms_messages SET state='queued', error=?, next_attempt=? WHERE id=?"));
    q.addBindValue(nn(reason));
    q.addBindValue(nextMs);
    q.addBindValue(id);
    if (!q.exec())
        return fail(QStringLiteral("requeueing an SMS"), q.lastError().text());
    return true;
}

bool SmsStore::setState(qint64 id, State state, const QString &note, qint64 nowMs) {
    QSqlQuery q(m_store.database());
    const bool final = state == State::Delivered || state == State::Failed;
    q.prepare(QStringLiteral("UPDATE sms_messages SET state=?, error=?%1 WHERE id=?")
                  .arg(final ? QStringLiteral(", done=?") : state == State::Sent ? QStringLiteral(", sent=?") : QString()));
    q.addBindValue(stateName(state));
    q.addBindValue(nn(note));
    if (final || state == State::Sent)
        q.addBindValue(nowMs);
    q.addBindValue(id);
    if (!q.exec())
        return fail(QStringLiteral("updating an SMS"), q.lastError().text());
    return true;
}

bool SmsStore::markFailed(qint64 id, const QString &reason, qint64 nowMs) { return setState(id, State::Failed, reason, nowMs); }

bool SmsStore::markDelivered(qint64 id, qint64 nowMs, const QString &note) {
    return setState(id, State::Delivered, note, nowMs);
}

int SmsStore::recoverInterrupted(qint64 nowMs) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("UPDATE sms_messages SET state='queued', next_attempt=?,"
                             " error='interrupted while sending (TrackerDesk stopped or the modem went away): sent again'"
                             " WHERE state='sending'"));
    q.addBindValue(nowMs);
    if (!q.exec()) {
        fail(QStringLiteral("recovering interrupted SMS"), q.lastError().text());
        return -1;
    }
    return q.numRowsAffected();
}

QList<SmsStore::RefCandidate> SmsStore::findReference(int reference, qint64 sinceMs) {
    QList<RefCandidate> out;
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT r.message_id, r.part, m.number FROM sms_refs r JOIN sms_messages m ON m.id=r.message_id"
                             " WHERE r.mr=? AND m.created>=? AND m.state IN ('sent', 'delivered', 'failed')"
                             " AND (r.status IS NULL OR (r.status>=32 AND r.status<64))"
                             " ORDER BY m.sent DESC, r.message_id DESC"));
    q.addBindValue(reference);
    q.addBindValue(sinceMs);
    if (!q.exec()) {
        fail(QStringLiteral("matching a status report"), q.lastError().text());
        return out;
    }
    while (q.next())
        out << RefCandidate{q.value(0).toLongLong(), q.value(1).toInt(), q.value(2).toString()};
    return out;
}

bool SmsStore::setPartStatus(qint64 messageId, int part, int tpStatus, qint64 reportMs) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("UPDATE sms_refs SET status=?, report_time=? WHERE message_id=? AND part=?"));
    q.addBindValue(tpStatus);
    q.addBindValue(reportMs);
    q.addBindValue(messageId);
    q.addBindValue(part);
    if (!q.exec())
        return fail(QStringLiteral("storing a status report"), q.lastError().text());
    return true;
}

SmsStore::PartResult SmsStore::insertPart(const InboxPart &part, qint64 *id, InboxPart *existing) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("INSERT OR IGNORE INTO sms_inbox_parts(pdu, received, number, memory, slot) VALUES(?,?,?,?,?)"));
    q.addBindValue(part.pdu);
    q.addBindValue(part.received.isValid() ? part.received.toMSecsSinceEpoch() : QDateTime::currentMSecsSinceEpoch());
    q.addBindValue(nn(part.number));
    q.addBindValue(nn(part.memory));
    q.addBindValue(part.slot);
    if (!q.exec()) {
        fail(QStringLiteral("storing a received SMS part"), q.lastError().text());
        return PartResult::Error;
    }
    if (q.numRowsAffected() == 1) {
        if (id) *id = q.lastInsertId().toLongLong();
        return PartResult::New;
    }
    q.finish();
    QSqlQuery e(m_store.database());
    e.prepare(QStringLiteral("SELECT id, received, number, memory, slot, message_id FROM sms_inbox_parts WHERE pdu=?"));
    e.addBindValue(part.pdu);
    if (!e.exec() || !e.next()) {
        fail(QStringLiteral("reading a received SMS part"), e.lastError().text());
        return PartResult::Error;
    }
    if (id) *id = e.value(0).toLongLong();
    if (existing) {
        existing->id = e.value(0).toLongLong();
        existing->pdu = part.pdu;
        existing->received = utc(e.value(1));
        existing->number = e.value(2).toString();
        existing->memory = e.value(3).toString();
        existing->slot = e.value(4).toInt();
        existing->messageId = e.value(5).isNull() ? 0 : e.value(5).toLongLong();
    }
    return PartResult::Duplicate;
}

QList<InboxPart> SmsStore::waitingParts() {
    QList<InboxPart> out;
    QSqlQuery q(m_store.database());
    q.setForwardOnly(true);
    if (!q.exec(QStringLiteral("SELECT id, pdu, received, number, memory, slot FROM sms_inbox_parts"
                               " WHERE message_id IS NULL ORDER BY id"))) {
        fail(QStringLiteral("reading waiting SMS parts"), q.lastError().text());
        return out;
    }
    while (q.next()) {
        InboxPart p;
        p.id = q.value(0).toLongLong();
        p.pdu = q.value(1).toByteArray();
        p.received = utc(q.value(2));
        p.number = q.value(3).toString();
        p.memory = q.value(4).toString();
        p.slot = q.value(5).toInt();
        out << p;
    }
    return out;
}

bool SmsStore::setPositions(qint64 id, int count) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("UPDATE sms_messages SET positions=? WHERE id=?"));
    q.addBindValue(count);
    q.addBindValue(id);
    if (!q.exec())
        return fail(QStringLiteral("updating an SMS"), q.lastError().text());
    return true;
}

std::optional<qint64> SmsStore::lastOpenGprsCommand(qint64 deviceId, qint64 sinceMs) {
    QSqlQuery q(m_store.database());
    q.prepare(QStringLiteral("SELECT id FROM sms_messages WHERE device_id=? AND direction=1 AND channel='gprs' AND state='sent'"
                             " AND created>=? ORDER BY id DESC LIMIT 1"));
    q.addBindValue(deviceId);
    q.addBindValue(sinceMs);
    if (!q.exec() || !q.next())
        return std::nullopt;
    return q.value(0).toLongLong();
}

} // namespace td::sms
