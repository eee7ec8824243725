#include "geo/secretstore.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#ifdef TD_HAVE_QTKEYCHAIN
#include <QEventLoop>
#include <QTimer>
#include <memory>
#include <qt6keychain/keychain.h>
#endif

namespace td::geo {

namespace {

constexpr QFileDevice::Permissions kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

#ifdef TD_HAVE_QTKEYCHAIN
const QString kService = QStringLiteral("TrackerDesk");

struct JobResult {
    bool done = false;
    QKeychain::Error error = QKeychain::NoError;
    QString errorString;
    QString text;
};

// Runs a keychain job to its end (at most 15 s; the job deletes itself).
JobResult runJob(QKeychain::Job *job) {
    auto result = std::make_shared<JobResult>();
    QEventLoop loop;
    QObject::connect(job, &QKeychain::Job::finished, &loop, [result, &loop](QKeychain::Job *j) {
        result->done = true;
        result->error = j->error();
        result->errorString = j->errorString();
        if (auto *r = qobject_cast<QKeychain::ReadPasswordJob *>(j))
            result->text = r->textData();
        loop.quit();
    });
    job->setAutoDelete(true);
    QTimer::singleShot(15000, &loop, &QEventLoop::quit);
    job->start();
    if (!result->done)
        loop.exec();
    if (!result->done) {
        result->error = QKeychain::OtherError;
        result->errorString = QStringLiteral("the keychain did not answer within 15 s");
    }
    return *result;
}
#endif

} // namespace

SecretStore::SecretStore(const QString &dataDir, Backend backend) : m_dataDir(dataDir), m_backend(backend) {}

bool SecretStore::keychainCompiled() {
#ifdef TD_HAVE_QTKEYCHAIN
    return true;
#else
    return false;
#endif
}

bool SecretStore::keychainReachable() {
#ifdef TD_HAVE_QTKEYCHAIN
#if defined(Q_OS_UNIX) && !defined(Q_OS_MACOS) && !defined(Q_OS_ANDROID)
    // Secret Service and KWallet are D-Bus services: without a session bus (a server, a
    // container, CI) asking would only fail - or try to start a bus.
    if (qEnvironmentVariableIsEmpty("DBUS_SESSION_BUS_ADDRESS"))
        return false;
#endif
    return QKeychain::isAvailable();
#else
    return false;
#endif
}

bool SecretStore::useKeychain() const {
    switch (m_backend) {
    case Backend::File: return false;
    case Backend::Keychain: return true;
    case Backend::Auto:
        // TRACKERDESK_SECRET_STORE=file: the owner-only file even where a keychain exists
        // (tests, servers whose keychain is locked).
        if (qEnvironmentVariable("TRACKERDESK_SECRET_STORE") == QLatin1String("file"))
            return false;
        return keychainReachable();
    }
    return false;
}

QString SecretStore::filePath() const { return QDir(m_dataDir).filePath(QStringLiteral("secrets.json")); }

QString SecretStore::describe() const {
    if (useKeychain())
        return QStringLiteral("the system keychain");
    return QStringLiteral("%1 (readable by you only)").arg(QDir::toNativeSeparators(filePath()));
}

QString SecretStore::keychainKey(const QString &name) const {
    // One entry per data folder: two TrackerDesk set-ups of one user keep their own keys.
    const QByteArray h = QCryptographicHash::hash(QDir(m_dataDir).absolutePath().toUtf8(), QCryptographicHash::Sha1).toHex().left(12);
    return name + QLatin1Char('@') + QString::fromLatin1(h);
}

bool SecretStore::write(const QString &name, const QString &value, QString *error) {
    if (useKeychain()) {
#ifdef TD_HAVE_QTKEYCHAIN
        JobResult r;
        if (value.isEmpty()) {
            auto *job = new QKeychain::DeletePasswordJob(kService);
            job->setKey(keychainKey(name));
            r = runJob(job);
            if (r.error == QKeychain::EntryNotFound)
                r.error = QKeychain::NoError;
        } else {
            auto *job = new QKeychain::WritePasswordJob(kService);
            job->setKey(keychainKey(name));
            job->setTextData(value);
            r = runJob(job);
        }
        if (r.error == QKeychain::NoError) {
            // A copy left in the file from before would shadow nothing but must not linger.
            QString ignored;
            if (QFileInfo::exists(filePath()))
                writeFile(name, QString(), &ignored);
            return true;
        }
        if (m_backend == Backend::Keychain) {
            if (error)
                *error = QStringLiteral("the system keychain refused: %1").arg(r.errorString);
            return false;
        }
        // Auto: fall back to the owner-only file.
#else
        if (m_backend == Backend::Keychain) {
            if (error)
                *error = QStringLiteral("this TrackerDesk was built without QtKeychain");
            return false;
        }
#endif
    }
    return writeFile(name, value, error);
}

std::optional<QString> SecretStore::read(const QString &name, QString *error) {
    if (useKeychain()) {
#ifdef TD_HAVE_QTKEYCHAIN
        auto *job = new QKeychain::ReadPasswordJob(kService);
        job->setKey(keychainKey(name));
        const JobResult r = runJob(job);
        if (r.error == QKeychain::NoError && !r.text.isEmpty())
            return r.text;
        if (r.error != QKeychain::NoError && r.error != QKeychain::EntryNotFound && m_backend == Backend::Keychain) {
            if (error)
                *error = QStringLiteral("the system keychain refused: %1").arg(r.errorString);
            return std::nullopt;
        }
#else
        if (m_backend == Backend::Keychain) {
            if (error)
                *error = QStringLiteral("this TrackerDesk was built without QtKeychain");
            return std::nullopt;
        }
#endif
    }
    return readFile(name, error);
}

std::optional<QString> SecretStore::readFile(const QString &name, QString *error) {
    QFile f(filePath());
    if (!f.exists())
        return QString();
    // Someone loosened the permissions: tighten them before reading.
    const QFileDevice::Permissions others = QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup
                                            | QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;
    if (f.permissions() & others)
        f.setPermissions(kOwnerOnly);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(filePath(), f.errorString());
        return std::nullopt;
    }
    const QByteArray data = f.read(1024 * 1024);
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(data, &pe);
    if (pe.error != QJsonParseError::NoError || !doc.isObject()) {
        if (error)
            *error = QStringLiteral("%1 is damaged (%2); store the key again").arg(filePath(), pe.errorString());
        return std::nullopt;
    }
    return doc.object().value(name).toString();
}

bool SecretStore::writeFile(const QString &name, const QString &value, QString *error) {
    QJsonObject o;
    {
        QFile f(filePath());
        if (f.exists() && f.open(QIODevice::ReadOnly))
            o = QJsonDocument::fromJson(f.read(1024 * 1024)).object();   // damaged: start afresh
    }
    if (value.isEmpty()) {
        if (!o.contains(name))
            return true;
        o.remove(name);
    } else {
        o.insert(name, value);
    }
    if (!QDir().mkpath(m_dataDir)) {
        if (error)
            *error = QStringLiteral("cannot create the data folder %1").arg(m_dataDir);
        return false;
    }
    QSaveFile f(filePath());
    if (!f.open(QIODevice::WriteOnly)) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(filePath(), f.errorString());
        return false;
    }
    // Owner-only before a single byte of the secret is written.
    if (!f.setPermissions(kOwnerOnly)) {
        f.cancelWriting();
        if (error)
            *error = QStringLiteral("cannot make %1 private to you").arg(filePath());
        return false;
    }
    f.write(QJsonDocument(o).toJson(QJsonDocument::Indented));
    if (!f.commit()) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(filePath(), f.errorString());
        return false;
    }
    QFile::setPermissions(filePath(), kOwnerOnly);
    return true;
}

} // namespace td::geo
