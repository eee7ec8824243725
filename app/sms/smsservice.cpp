#include "sms/smsservice.h"

#include "core/settings.h"
#include "service/trackerservice.h"
#include "sms/numbers.h"

#include "trackerdesk/protocol/smstext.h"

#include <QDir>
#include <QFile>
#include <QSaveFile>
#include <QSqlQuery>
#include <QTimeZone>

#include <algorithm>

namespace td::sms {

namespace pdu = td::proto::pdu;

namespace {

qint64 nowMs() { return QDateTime::currentMSecsSinceEpoch(); }

QString clock(qint64 ms) {
    return QDateTime::fromMSecsSinceEpoch(ms).toLocalTime().toString(QStringLiteral("HH:mm:ss"));
}

const store::Device *findDevice(const QList<store::Device> &devices, const QString &to) {
    const QString t = to.trimmed();
    for (const store::Device &d : devices)
        if (d.imei == t)
            return &d;
    const store::Device *named = nullptr;
    for (const store::Device &d : devices) {
        if (!d.name.isEmpty() && d.name.compare(t, Qt::CaseInsensitive) == 0) {
            if (named)
                return nullptr;  // ambiguous: resolveRecipient() explains
            named = &d;
        }
    }
    return named;
}

QString deviceText(const store::Device &d) {
    return d.name.isEmpty() ? d.imei : QStringLiteral("%1 (%2)").arg(d.name, d.imei);
}

constexpr qint32 kBauds[] = {1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600};

} // namespace

QString channelChoiceName(ChannelChoice c) {
    switch (c) {
    case ChannelChoice::Auto: return QStringLiteral("auto");
    case ChannelChoice::Sms: return QStringLiteral("sms");
    case ChannelChoice::Gprs: return QStringLiteral("gprs");
    }
    return {};
}

std::optional<ChannelChoice> channelChoiceFromName(const QString &name) {
    for (ChannelChoice c : {ChannelChoice::Auto, ChannelChoice::Sms, ChannelChoice::Gprs})
        if (channelChoiceName(c) == name.trimmed().toLower())
            return c;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// settings

static QString pinFile(const QString &dataDir) { return QDir(dataDir).filePath(QStringLiteral("modem-pin")); }

ModemSettings loadModemSettings(AppSettings &settings, const QString &dataDir, QStringList *problems) {
    ModemSettings m;
    QSettings &s = settings.raw();
    m.port = s.value(QStringLiteral("modem/port")).toString().trimmed();
    if (s.contains(QStringLiteral("modem/baud"))) {
        bool ok = false;
        const int b = s.value(QStringLiteral("modem/baud")).toInt(&ok);
        if (ok && std::find(std::begin(kBauds), std::end(kBauds), b) != std::end(kBauds)) {
            m.baud = b;
        } else if (problems) {
            *problems << QStringLiteral("setting modem/baud = '%1' is not a serial speed; using 115200")
                             .arg(s.value(QStringLiteral("modem/baud")).toString());
        }
    }
    QFile f(pinFile(dataDir));
    if (f.exists()) {
        if (f.open(QIODevice::ReadOnly))
            m.pin = QString::fromUtf8(f.read(64)).trimmed();
        else if (problems)
            *problems << QStringLiteral("cannot read the SIM PIN file %1: %2").arg(f.fileName(), f.errorString());
    }
    return m;
}

bool saveModemSettings(AppSettings &settings, const QString &dataDir, const ModemSettings &modem, QString *error) {
    QSettings &s = settings.raw();
    s.setValue(QStringLiteral("modem/port"), modem.port.trimmed());
    s.setValue(QStringLiteral("modem/baud"), modem.baud);
    s.remove(QStringLiteral("modem/pin"));  // never in clear text in the settings file
    s.sync();
    const QString path = pinFile(dataDir);
    if (modem.pin.trimmed().isEmpty()) {
        if (QFile::exists(path) && !QFile::remove(path)) {
            if (error) *error = QStringLiteral("cannot remove the SIM PIN file %1").arg(path);
            return false;
        }
        return true;
    }
    if (!QDir().mkpath(dataDir)) {
        if (error) *error = QStringLiteral("cannot create the data folder %1").arg(dataDir);
        return false;
    }
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || !f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner)) {
        if (error) *error = QStringLiteral("cannot write the SIM PIN file %1: %2").arg(path, f.errorString());
        return false;
    }
    f.write(modem.pin.trimmed().toUtf8());
    if (!f.commit()) {
        if (error) *error = QStringLiteral("cannot write the SIM PIN file %1: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

SmsConfig smsConfig(AppSettings &settings, const QString &modemOption, const QString &dataDir, QStringList *problems) {
    SmsConfig c;
    const ModemSettings saved = loadModemSettings(settings, dataDir, problems);
    c.modem.port = saved.port;
    c.modem.baud = saved.baud;
    c.modem.pin = saved.pin;
    if (!modemOption.trimmed().isEmpty()) {
        QString why;
        if (const auto spec = modem::parseModemSpec(modemOption, &why)) {
            const bool samePort = spec->port == saved.port;
            c.modem.port = spec->port;
            c.modem.baud = spec->baud;
            c.modem.pin = samePort || saved.port.isEmpty() ? saved.pin : QString();
        } else if (problems) {
            *problems << QStringLiteral("--modem: %1").arg(why);
        }
    }
    return c;
}

QString peerText(const QString &deviceLabel, const QString &number) {
    if (deviceLabel.isEmpty())
        return number.isEmpty() ? QStringLiteral("?") : number;
    return number.isEmpty() ? deviceLabel : QStringLiteral("%1 (%2)").arg(deviceLabel, number);
}

QString messageLogLine(const Message &m, const QString &who) {
    const QString via = m.channel == Channel::Gprs ? QStringLiteral("gprs") : QStringLiteral("sms");
    QString text = m.text;
    text.replace(QLatin1Char('\n'), QStringLiteral(" / "));
    if (m.direction == Direction::Received) {
        QString line = QStringLiteral("%1 received from %2: %3").arg(via, who.isEmpty() ? QStringLiteral("?") : who, text);
        if (m.positions > 0)
            line += QStringLiteral(" [%1 position(s) stored]").arg(m.positions);
        if (!m.error.isEmpty())
            line += QStringLiteral(" (%1)").arg(m.error);
        return line;
    }
    QString refs;
    for (const PartReference &r : m.references)
        refs += (refs.isEmpty() ? QStringLiteral(" [ref ") : QStringLiteral(",")) + QString::number(r.reference);
    if (!refs.isEmpty())
        refs += QLatin1Char(']');
    switch (m.state) {
    case State::Queued:
        return m.attempts == 0 ? QStringLiteral("%1 queued to %2: %3").arg(via, who, text)
                               : QStringLiteral("%1 to %2 waits for another try: %3").arg(via, who, m.error);
    case State::Sending: return {};
    case State::Sent: return QStringLiteral("%1 sent to %2%3: %4").arg(via, who, refs, text);
    case State::Delivered: return QStringLiteral("%1 delivered to %2%3: %4").arg(via, who, refs, text);
    case State::Failed: return QStringLiteral("%1 to %2 FAILED: %3 (%4)").arg(via, who, text, m.error);
    case State::Received: break;
    }
    return {};
}

QString modemSummary(modem::ModemState state, const QString &detail, const modem::ModemInfo &info) {
    using modem::ModemState;
    switch (state) {
    case ModemState::Closed:
        return detail.isEmpty() ? QStringLiteral("no modem") : detail;
    case ModemState::Ready: {
        QStringList parts;
        if (!info.operatorName.isEmpty())
            parts << info.operatorName;
        else if (info.registration >= 0 && info.registration != 1 && info.registration != 5)
            parts << QStringLiteral("not registered");
        if (info.signalDbm)
            parts << QStringLiteral("%1 dBm").arg(*info.signalDbm);
        if (info.storageTotal > 0)
            parts << QStringLiteral("%1 %2/%3").arg(info.storage.isEmpty() ? QStringLiteral("storage") : info.storage)
                         .arg(info.storageUsed).arg(info.storageTotal);
        return parts.isEmpty() ? QStringLiteral("ready") : QStringLiteral("ready — %1").arg(parts.join(QStringLiteral(", ")));
    }
    default:
        return detail.isEmpty() ? modem::modemStateName(state).toLower()
                                : QStringLiteral("%1: %2").arg(modem::modemStateName(state).toLower(), detail);
    }
}

// ---------------------------------------------------------------------------------------

SmsService::SmsService(store::Store &store, TrackerService *tracker, QObject *parent)
    : QObject(parent), m_store(store), m_db(store), m_tracker(tracker) {
    qRegisterMetaType<td::sms::Message>();
    m_retryTimer.setSingleShot(true);
    m_retryTimer.setTimerType(Qt::PreciseTimer);   // a coarse timer may fire before the attempt is due
    connect(&m_retryTimer, &QTimer::timeout, this, &SmsService::pump);
    connect(&m_expireTimer, &QTimer::timeout, this, &SmsService::expireParts);
    if (m_tracker)
        connect(m_tracker, &TrackerService::commandReply, this, &SmsService::onCommandReply);
}

SmsService::~SmsService() {
    if (m_engine) {
        m_engine->disconnect(this);
        if (m_job)
            m_db.requeue(m_jobMessage, QStringLiteral("interrupted: TrackerDesk stopped while the modem was sending; sent again"),
                         nowMs());
        m_engine->close();
    }
}

bool SmsService::start(const SmsConfig &config, QString *error) {
    m_config = config;
    {
        QSqlQuery probe(m_store.database());
        if (!probe.exec(QStringLiteral("SELECT COUNT(*) FROM sms_inbox_parts WHERE message_id IS NULL"))) {
            if (error)
                *error = QStringLiteral("the store has no SMS tables (%1)").arg(m_store.isOpen() ? QStringLiteral("schema too old")
                                                                                              : QStringLiteral("not open"));
            return false;
        }
    }
    const qint64 now = nowMs();
    m_reassembler = std::make_unique<pdu::Reassembler>(config.reassemblyTimeoutMs);
    const int recovered = m_db.recoverInterrupted(now);
    if (recovered > 0)
        emit logMessage(QStringLiteral("%1 SMS interrupted while sending put back in the queue").arg(recovered));
    // Parts stored but not yet joined (a crash, or a message whose other parts are still
    // on their way): back into the reassembler with their arrival times.
    for (const InboxPart &p : m_db.waitingParts()) {
        QString err;
        const auto sms = pdu::decode(p.pdu, true, &err);
        if (!sms || sms->type != pdu::PduType::Deliver) {
            Message m;
            m.direction = Direction::Received;
            m.state = State::Received;
            m.number = p.number;
            m.created = p.received;
            m.error = QStringLiteral("undecodable SMS PDU: %1").arg(err.isEmpty() ? QStringLiteral("not an SMS-DELIVER") : err);
            m.pdus = {p.pdu};
            if (const qint64 id = m_db.insertReceived(m, {p.id}); id > 0) {
                m.id = id;
                emit messageAdded(m);
            }
            continue;
        }
        const QString tag = QString::number(p.id);
        m_waitingPdus.insert(tag, p.pdu);
        if (auto r = m_reassembler->add(*sms, p.received.toMSecsSinceEpoch(), tag))
            storeAssembled(*r, now);
    }
    m_expireTimer.start(qMax(50, config.expireCheckMs));
    m_started = true;
    setModem(config.modem);
    QTimer::singleShot(0, this, &SmsService::pump);
    return true;
}

void SmsService::setModem(const modem::ModemConfig &config) {
    if (m_engine) {
        m_engine->disconnect(this);
        if (m_job) {
            m_db.requeue(m_jobMessage, QStringLiteral("interrupted: the modem was switched while sending; sent again"), nowMs());
            changed(m_jobMessage);
            m_job = 0;
        }
        m_engine->close();
        m_engine.reset();
    }
    m_config.modem = config;
    if (config.port.trimmed().isEmpty()) {
        m_modemLog.addNote(QStringLiteral("no modem configured"));
        emit modemStateChanged(modem::ModemState::Closed, QStringLiteral("no modem configured"));
        return;
    }
    m_modemLog.addNote(QStringLiteral("modem %1 at %2 baud").arg(config.port).arg(config.baud));
    m_engine = std::make_unique<modem::ModemEngine>();
    connect(m_engine.get(), &modem::ModemEngine::traffic, this,
            [this](bool toModem, const QByteArray &line) { m_modemLog.addTraffic(toModem, line); });
    connect(m_engine.get(), &modem::ModemEngine::stateChanged, this, &SmsService::onModemState);
    connect(m_engine.get(), &modem::ModemEngine::infoChanged, this, &SmsService::modemInfoChanged);
    connect(m_engine.get(), &modem::ModemEngine::sendFinished, this, &SmsService::onSendFinished);
    connect(m_engine.get(), &modem::ModemEngine::messageReceived, this, &SmsService::onMessageReceived);
    connect(m_engine.get(), &modem::ModemEngine::statusReportReceived, this, &SmsService::onStatusReport);
    m_engine->open(config);
}

modem::ModemState SmsService::modemState() const {
    return m_engine ? m_engine->state() : modem::ModemState::Closed;
}

QString SmsService::modemStatus() const {
    if (!m_engine)
        return QStringLiteral("no modem configured");
    return modemSummary(m_engine->state(), m_engine->stateDetail(), m_engine->info());
}

void SmsService::onModemState(modem::ModemState state, const QString &detail) {
    m_modemLog.addNote(detail.isEmpty() ? modem::modemStateName(state)
                                        : QStringLiteral("%1: %2").arg(modem::modemStateName(state), detail));
    emit modemStateChanged(state, detail);
    if (state == modem::ModemState::Ready)
        QTimer::singleShot(0, this, &SmsService::pump);
}

QList<store::Device> SmsService::devices() { return m_store.devices(); }

bool SmsService::isOnline(qint64 deviceId) const {
    if (!m_tracker || deviceId <= 0)
        return false;
    const auto d = m_tracker->device(deviceId);
    return d && d->online;
}

QString SmsService::deviceLabel(qint64 deviceId) {
    if (const auto d = m_store.device(deviceId))
        return deviceText(*d);
    return QString::number(deviceId);
}

void SmsService::changed(qint64 id) {
    if (const auto m = m_db.message(id))
        emit messageChanged(*m);
}

// ---------------------------------------------------------------------------------------
// sending

SendResult SmsService::send(const QString &to, const QString &text, ChannelChoice channel) {
    const QList<store::Device> all = devices();
    if (const store::Device *d = findDevice(all, to))
        return sendToDevice(d->id, text, channel);
    SendResult r;
    QString err;
    const auto recipient = resolveRecipient(all, to, &err);
    if (!recipient) {
        r.error = err;
        return r;
    }
    if (recipient->deviceId > 0 && channel != ChannelChoice::Sms && (channel == ChannelChoice::Gprs || isOnline(recipient->deviceId)))
        return sendToDevice(recipient->deviceId, text, channel);
    if (channel == ChannelChoice::Gprs) {
        r.error = QStringLiteral("%1 is not the phone number of a known device; GPRS commands go to devices").arg(recipient->number);
        return r;
    }
    return queueSms(recipient->number, recipient->deviceId, recipient->label, text);
}

SendResult SmsService::sendToDevice(qint64 deviceId, const QString &text, ChannelChoice channel) {
    SendResult r;
    const auto d = m_store.device(deviceId);
    if (!d) {
        r.error = QStringLiteral("no device with id %1").arg(deviceId);
        return r;
    }
    const QString label = deviceText(*d);
    const QString phone = isPhoneNumber(d->phone) ? normaliseNumber(d->phone) : QString();
    if (text.trimmed().isEmpty()) {
        r.error = QStringLiteral("the text is empty");
        return r;
    }
    QString gprsProblem;
    if (channel == ChannelChoice::Gprs || (channel == ChannelChoice::Auto && isOnline(deviceId))) {
        SendResult g = sendGprs(deviceId, label, phone, text);
        if (g.ok() || channel == ChannelChoice::Gprs)
            return g;
        gprsProblem = g.error;
    }
    if (phone.isEmpty()) {
        r.error = d->phone.trimmed().isEmpty()
            ? QStringLiteral("device %1 has no SIM phone number; set it in the device's properties%2")
                  .arg(label, isOnline(deviceId) ? QString() : QStringLiteral(" (it is not online for a GPRS command either)"))
            : QStringLiteral("device %1 has the SIM phone number '%2', which is not a phone number").arg(label, d->phone);
        if (!gprsProblem.isEmpty())
            r.error += QStringLiteral("; GPRS: %1").arg(gprsProblem);
        return r;
    }
    r = queueSms(phone, deviceId, label, text);
    if (r.ok() && !gprsProblem.isEmpty())
        r.note = QStringLiteral("GPRS failed (%1), so by SMS: %2").arg(gprsProblem, r.note);
    return r;
}

SendResult SmsService::sendGprs(qint64 deviceId, const QString &label, const QString &number, const QString &text) {
    SendResult r;
    r.channel = Channel::Gprs;
    r.to = label;
    if (!m_tracker) {
        r.error = QStringLiteral("GPRS commands need the running TrackerDesk server");
        return r;
    }
    const QString err = m_tracker->sendCommand(deviceId, text);
    if (!err.isEmpty()) {
        r.error = err;
        return r;
    }
    Message m;
    m.direction = Direction::Sent;
    m.deviceId = deviceId;
    m.number = number;
    m.text = text.trimmed();
    m.channel = Channel::Gprs;
    m.state = State::Sent;
    m.created = m.sent = QDateTime::currentDateTimeUtc();
    m.id = m_db.insert(m);
    if (m.id <= 0) {
        // The command went out; only the record failed.
        emit logMessage(QStringLiteral("GPRS command to %1 sent but not recorded: %2").arg(label, m_db.lastError()));
        r.error = QStringLiteral("sent over GPRS, but the conversation could not be stored: %1").arg(m_db.lastError());
        return r;
    }
    r.id = m.id;
    r.state = State::Sent;
    r.note = QStringLiteral("sent over GPRS; the reply appears in the conversation");
    emit messageAdded(m);
    return r;
}

SendResult SmsService::queueSms(const QString &number, qint64 deviceId, const QString &label, const QString &text) {
    SendResult r;
    r.to = label;
    r.channel = Channel::Sms;
    if (text.trimmed().isEmpty()) {
        r.error = QStringLiteral("the text is empty");
        return r;
    }
    const pdu::SegmentInfo seg = pdu::segmentInfo(text);
    if (seg.parts > m_config.maxParts) {
        r.error = QStringLiteral("the text needs %1 SMS parts; at most %2 are sent").arg(seg.parts).arg(m_config.maxParts);
        return r;
    }
    QString err;
    const auto address = pdu::Address::fromUser(number, &err);
    if (!address || address->isAlphanumeric()) {
        r.error = QStringLiteral("cannot send an SMS to '%1': %2").arg(number, address ? QStringLiteral("not a phone number") : err);
        return r;
    }
    Message m;
    m.direction = Direction::Sent;
    m.deviceId = deviceId;
    m.number = number;
    m.text = text;
    m.channel = Channel::Sms;
    m.state = State::Queued;
    m.parts = seg.parts;
    m.created = QDateTime::currentDateTimeUtc();
    m.id = m_db.insert(m);
    if (m.id <= 0) {
        r.error = QStringLiteral("the SMS could not be stored: %1").arg(m_db.lastError());
        return r;
    }
    r.id = m.id;
    r.state = State::Queued;
    if (!m_engine)
        r.note = QStringLiteral("queued; no GSM modem is configured, so it is sent when TrackerDesk runs with a modem "
                                "(Settings > Modem, or --modem PORT)");
    else if (m_engine->state() != modem::ModemState::Ready)
        r.note = QStringLiteral("queued; the modem is %1, the SMS goes out when it is ready").arg(modemStatus());
    else
        r.note = QStringLiteral("queued for the modem");
    emit messageAdded(m);
    QTimer::singleShot(0, this, &SmsService::pump);
    return r;
}

qint64 SmsService::retryDelayMs(int attempts) const {
    qint64 d = m_config.firstRetryMs;
    for (int i = 1; i < attempts && d < m_config.maxRetryMs; ++i)
        d *= 2;
    return qMin<qint64>(d, m_config.maxRetryMs);
}

// `now`: the time at which nothing was due. Asking again with a later clock lost a message
// whose next attempt fell between the two readings (nothing due, nothing after: the timer
// stopped and the message stayed queued; seen in CI under load).
void SmsService::scheduleRetry(qint64 now) {
    if (const auto next = m_db.nextAttemptAfter(now))
        m_retryTimer.start(int(qBound<qint64>(0, *next - nowMs() + 5, qint64(24) * 3600 * 1000)));
    else
        m_retryTimer.stop();
}

void SmsService::pump() {
    if (!m_started || m_job || !m_engine || m_engine->state() != modem::ModemState::Ready)
        return;
    for (;;) {
        const qint64 now = nowMs();
        const auto m = m_db.nextDue(now);
        if (!m) {
            scheduleRetry(now);
            return;
        }
        QString err;
        const auto address = pdu::Address::fromUser(m->number, &err);
        QList<pdu::EncodedPdu> encoded;
        if (address && !address->isAlphanumeric()) {
            pdu::SubmitOptions o;
            o.requestStatusReport = m_config.requestStatusReport;
            o.concatReference = quint16(m->id & 0xFF);  // the same for every attempt of this message
            encoded = pdu::encodeSubmit(*address, m->text, o, &err);
        } else if (address) {
            err = QStringLiteral("not a phone number");
        }
        if (encoded.isEmpty()) {
            if (!m_db.markFailed(m->id, QStringLiteral("cannot encode the SMS to '%1': %2").arg(m->number, err), now)) {
                emit logMessage(QStringLiteral("SMS %1 cannot be sent nor marked failed: %2").arg(m->id).arg(m_db.lastError()));
                m_retryTimer.start(m_config.firstRetryMs);
                return;
            }
            changed(m->id);
            continue;
        }
        QList<QByteArray> pdus;
        QList<int> lengths;
        for (const pdu::EncodedPdu &e : std::as_const(encoded)) {
            pdus << e.bytes;
            lengths << e.tpduLength;
        }
        // Durable before the modem sees it: a crash from here on finds it "sending" and resends.
        if (!m_db.markSending(m->id, pdus, now)) {
            emit logMessage(QStringLiteral("SMS %1 not sent: %2").arg(m->id).arg(m_db.lastError()));
            m_retryTimer.start(m_config.firstRetryMs);
            return;
        }
        changed(m->id);
        const quint64 job = m_engine->sendSms(pdus, lengths);
        if (job == 0) {
            m_db.requeue(m->id, QStringLiteral("the modem was not ready"), now);
            changed(m->id);
            return;
        }
        m_job = job;
        m_jobMessage = m->id;
        return;
    }
}

void SmsService::onSendFinished(quint64 job, const QList<int> &references, const QString &error, bool retryable) {
    if (job != m_job)
        return;
    const qint64 id = m_jobMessage;
    m_job = 0;
    m_jobMessage = 0;
    const qint64 now = nowMs();
    const auto m = m_db.message(id);
    if (error.isEmpty()) {
        if (!m_db.markSent(id, references, now))
            emit logMessage(QStringLiteral("SMS %1 was sent but its state could not be stored: %2").arg(id).arg(m_db.lastError()));
    } else {
        const int attempts = m ? m->attempts : 1;
        if (retryable && attempts < m_config.maxAttempts) {
            const qint64 next = now + retryDelayMs(attempts);
            m_db.requeue(id, QStringLiteral("attempt %1 failed: %2; next try at %3").arg(attempts).arg(error, clock(next)), next);
        } else {
            m_db.markFailed(id, retryable ? QStringLiteral("%1 (gave up after %2 attempts)").arg(error).arg(attempts) : error, now);
        }
    }
    changed(id);
    QTimer::singleShot(0, this, &SmsService::pump);
}

// ---------------------------------------------------------------------------------------
// receiving

void SmsService::deleteFromModem(const QString &memory, int slot) {
    if (m_engine && slot >= 0)
        m_engine->deleteMessage(memory, slot);
}

void SmsService::onMessageReceived(const modem::ReceivedPdu &received) {
    const qint64 now = nowMs();
    QString err;
    const auto sms = pdu::decode(received.pdu, true, &err);
    if (sms && sms->type == pdu::PduType::Submit)
        return;  // a stored outgoing message (STO SENT/UNSENT): not ours to process or delete
    if (sms && sms->type == pdu::PduType::StatusReport) {
        handleReport(*sms, now);
        deleteFromModem(received.memory, received.index);
        return;
    }
    InboxPart part;
    part.pdu = received.pdu;
    part.received = QDateTime::fromMSecsSinceEpoch(now, QTimeZone::UTC);
    part.number = sms ? normaliseNumber(sms->address.text) : QString();
    part.memory = received.memory;
    part.slot = received.index;
    qint64 partId = 0;
    switch (m_db.insertPart(part, &partId)) {
    case SmsStore::PartResult::Error:
        // Not stored: the modem keeps its copy and the next sweep brings it again.
        emit logMessage(QStringLiteral("a received SMS could not be stored (left on the modem): %1").arg(m_db.lastError()));
        return;
    case SmsStore::PartResult::Duplicate:
        deleteFromModem(received.memory, received.index);  // already safe in the store
        return;
    case SmsStore::PartResult::New:
        break;
    }
    if (!sms) {
        Message m;
        m.direction = Direction::Received;
        m.state = State::Received;
        m.created = part.received;
        m.error = QStringLiteral("undecodable SMS PDU: %1").arg(err);
        m.pdus = {received.pdu};
        m.id = m_db.insertReceived(m, {partId});
        if (m.id > 0)
            emit messageAdded(m);
        emit logMessage(QStringLiteral("received an undecodable SMS PDU (%1): %2").arg(err, QString::fromLatin1(received.pdu.toHex())));
        deleteFromModem(received.memory, received.index);
        return;
    }
    const QString tag = QString::number(partId);
    m_waitingPdus.insert(tag, received.pdu);
    if (auto r = m_reassembler->add(*sms, now, tag))
        storeAssembled(*r, now);
    deleteFromModem(received.memory, received.index);
}

void SmsService::storeAssembled(const pdu::Reassembler::Result &result, qint64 now) {
    Message m;
    QList<qint64> partIds;
    for (const QString &tag : result.tags) {
        partIds << tag.toLongLong();
        m.pdus << m_waitingPdus.take(tag);
    }
    m.direction = Direction::Received;
    m.state = State::Received;
    m.channel = Channel::Sms;
    m.number = normaliseNumber(result.sms.address.text);
    m.text = result.sms.encoding == pdu::Encoding::EightBit
        ? QStringLiteral("[8-bit data] %1").arg(QString::fromLatin1(result.sms.data.toHex(' ')))
        : result.sms.text;
    m.created = QDateTime::fromMSecsSinceEpoch(now, QTimeZone::UTC);
    m.scts = result.sms.timestamp;
    m.parts = int(result.tags.size());
    if (!result.complete) {
        QStringList missing;
        for (int s : result.missing)
            missing << QString::number(s);
        m.error = QStringLiteral("incomplete: part(s) %1 of %2 did not arrive")
                      .arg(missing.join(QStringLiteral(", ")))
                      .arg(result.sms.concat ? result.sms.concat->total : m.parts + missing.size());
    }
    m.deviceId = deviceForNumber(devices(), m.number);
    m.id = m_db.insertReceived(m, partIds);
    if (m.id <= 0) {
        // The parts stay in the store (waiting) and are joined again at the next start.
        emit logMessage(QStringLiteral("a received SMS from %1 could not be stored: %2").arg(m.number, m_db.lastError()));
        return;
    }
    if (m.deviceId > 0)
        addPositions(m);
    emit messageAdded(m);
}

void SmsService::addPositions(Message &m) {
    const auto dev = m_store.device(m.deviceId);
    proto::sms::ParseOptions o;
    o.received = m.scts.isValid() ? m.scts : m.created;
    o.deviceUtcOffsetMinutes = dev ? dev->timeZoneMinutes.value_or(0) : 0;
    const QList<proto::sms::SmsPosition> found = proto::sms::parsePositions(m.text, o);
    if (found.isEmpty())
        return;
    proto::PositionList positions;
    for (const proto::sms::SmsPosition &p : found) {
        positions << p.position;
        positions.last().source = proto::PositionSource::Sms;
    }
    QString err;
    int stored = 0;
    if (m_tracker) {
        err = m_tracker->addDerivedPositions(m.deviceId, positions, 0, &stored);
    } else {
        QList<bool> isNew;
        if (!m_store.insertDerivedPositions(m.deviceId, nowMs(), 0, positions, &isNew))
            err = m_store.lastError();
    }
    if (!err.isEmpty()) {
        emit logMessage(m.channel == Channel::Gprs
                            ? QStringLiteral("positions in the GPRS reply of device %1 not stored: %2").arg(m.deviceId).arg(err)
                            : QStringLiteral("positions in the SMS from %1 not stored: %2").arg(m.number, err));
        return;
    }
    m.positions = int(positions.size());
    m_db.setPositions(m.id, m.positions);
}

void SmsService::expireParts() {
    if (!m_reassembler)
        return;
    const qint64 now = nowMs();
    for (const pdu::Reassembler::Result &r : m_reassembler->expire(now))
        storeAssembled(r, now);
}

// ---------------------------------------------------------------------------------------
// status reports

void SmsService::onStatusReport(const modem::ReceivedPdu &report) {
    QString err;
    auto sms = pdu::decode(report.pdu, true, &err);
    if (!sms || sms->type != pdu::PduType::StatusReport) {
        QString err2;
        if (const auto bare = pdu::decode(report.pdu, false, &err2); bare && bare->type == pdu::PduType::StatusReport)
            sms = bare;
    }
    if (!sms || sms->type != pdu::PduType::StatusReport) {
        emit logMessage(QStringLiteral("unreadable SMS status report (%1): %2")
                            .arg(err.isEmpty() ? QStringLiteral("not a status report") : err, QString::fromLatin1(report.pdu.toHex())));
    } else {
        handleReport(*sms, nowMs());
    }
    deleteFromModem(report.memory, report.index);
}

void SmsService::handleReport(const pdu::Sms &report, qint64 now) {
    const int mr = report.messageReference;
    const QString recipient = report.address.text;
    const QList<SmsStore::RefCandidate> candidates =
        m_db.findReference(mr, now - qint64(m_config.reportWindowDays) * 24 * 3600 * 1000);
    const SmsStore::RefCandidate *match = nullptr;
    for (const SmsStore::RefCandidate &c : candidates) {
        if (numberMatch(c.number, recipient) > 0) {
            match = &c;
            break;
        }
    }
    if (!match && recipient.isEmpty() && candidates.size() == 1)
        match = &candidates.first();  // a malformed recipient field (seen on ZTE modems)
    if (!match) {
        emit logMessage(QStringLiteral("status report for message reference %1 to %2 (%3) matches no sent SMS")
                            .arg(mr).arg(recipient, pdu::deliveryStatusText(report.status)));
        return;
    }
    const qint64 id = match->messageId;
    const qint64 when = report.dischargeTime.isValid() ? report.dischargeTime.toMSecsSinceEpoch() : now;
    if (!m_db.setPartStatus(id, match->part, report.status, when)) {
        emit logMessage(m_db.lastError());
        return;
    }
    const auto m = m_db.message(id);
    if (!m)
        return;
    int delivered = 0;
    QString failure, pending;
    for (const PartReference &r : m->references) {
        if (!r.status)
            continue;
        const QString part = m->references.size() > 1 ? QStringLiteral("part %1: ").arg(r.part + 1) : QString();
        switch (pdu::deliveryState(quint8(*r.status))) {
        case pdu::DeliveryState::Delivered: ++delivered; break;
        case pdu::DeliveryState::Pending: pending = part + pdu::deliveryStatusText(quint8(*r.status)); break;
        case pdu::DeliveryState::Failed:
            if (failure.isEmpty())
                failure = QStringLiteral("not delivered: %1%2").arg(part, pdu::deliveryStatusText(quint8(*r.status)));
            break;
        }
    }
    if (!failure.isEmpty())
        m_db.markFailed(id, failure, when);
    else if (delivered == m->references.size() && delivered > 0)
        m_db.markDelivered(id, when);
    else if (!pending.isEmpty())
        m_db.setState(id, State::Sent, pending, when);
    changed(id);
}

// ---------------------------------------------------------------------------------------
// GPRS replies

void SmsService::onCommandReply(qint64 deviceId, const QString &text) {
    const qint64 now = nowMs();
    Message m;
    m.direction = Direction::Received;
    m.state = State::Received;
    m.channel = Channel::Gprs;
    m.deviceId = deviceId;
    const auto dev = m_store.device(deviceId);
    m.number = dev && isPhoneNumber(dev->phone) ? normaliseNumber(dev->phone) : QString();
    m.text = text;
    m.created = QDateTime::fromMSecsSinceEpoch(now, QTimeZone::UTC);
    if (const auto command = m_db.lastOpenGprsCommand(deviceId, now - m_config.gprsReplyWindowMs))
        m.replyTo = *command;
    m.id = m_db.insert(m);
    if (m.id <= 0) {
        emit logMessage(QStringLiteral("a GPRS command reply could not be stored: %1").arg(m_db.lastError()));
        return;
    }
    if (m.replyTo > 0) {
        m_db.markDelivered(m.replyTo, now, QStringLiteral("answered over GPRS"));
        changed(m.replyTo);
    }
    // A position in the reply text (WHERE#, URL#... answered over GPRS) is a fix, as it is
    // when the same text arrives by SMS.
    if (m.deviceId > 0)
        addPositions(m);
    emit messageAdded(m);
}

// ---------------------------------------------------------------------------------------
// instance hand-off

QJsonObject SmsService::handleSendRequest(const QJsonObject &request) {
    const QString to = request.value(QStringLiteral("to")).toString();
    const QString text = request.value(QStringLiteral("text")).toString();
    const QString ch = request.value(QStringLiteral("channel")).toString(QStringLiteral("auto"));
    const auto channel = channelChoiceFromName(ch);
    if (!channel)
        return {{QStringLiteral("ok"), false}, {QStringLiteral("error"), QStringLiteral("channel '%1' is not auto, sms or gprs").arg(ch)}};
    const SendResult r = send(to, text, *channel);
    if (!r.ok())
        return {{QStringLiteral("ok"), false}, {QStringLiteral("error"), r.error}};
    return {{QStringLiteral("ok"), true},
            {QStringLiteral("id"), r.id},
            {QStringLiteral("channel"), channelName(r.channel)},
            {QStringLiteral("state"), stateName(r.state)},
            {QStringLiteral("to"), r.to},
            {QStringLiteral("note"), r.note}};
}

} // namespace td::sms
