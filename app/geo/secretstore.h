// Secrets (the geolocation API key): in the platform's secret store when TrackerDesk was
// built with QtKeychain and one is reachable (Secret Service / KWallet over D-Bus, macOS
// Keychain, Windows Credential Manager), else in <data folder>/secrets.json, created
// readable by the user only (0600). Never in the settings file, never logged.
// TRACKERDESK_SECRET_STORE=file forces the file (tests; servers with a locked keychain).
#pragma once

#include <QString>
#include <optional>

namespace td::geo {

class SecretStore {
public:
    enum class Backend {
        Auto,       // the keychain when available, else the file
        Keychain,   // the keychain only (errors when unavailable)
        File,       // the file only (tests, headless servers without a session bus)
    };

    explicit SecretStore(const QString &dataDir, Backend backend = Backend::Auto);

    static bool keychainCompiled();
    // Compiled in and a session bus / platform store to talk to.
    static bool keychainReachable();

    // Stores (an empty value removes). False with *error.
    bool write(const QString &name, const QString &value, QString *error = nullptr);
    // The value, an empty string when none is stored; nullopt with *error when the store
    // cannot be read (a corrupt file, a keychain error).
    std::optional<QString> read(const QString &name, QString *error = nullptr);
    bool remove(const QString &name, QString *error = nullptr) { return write(name, QString(), error); }

    QString filePath() const;
    // Where secrets go: "the system keychain" or "<path> (readable by you only)".
    QString describe() const;

private:
    bool useKeychain() const;
    bool writeFile(const QString &name, const QString &value, QString *error);
    std::optional<QString> readFile(const QString &name, QString *error);
    QString keychainKey(const QString &name) const;

    QString m_dataDir;
    Backend m_backend;
};

} // namespace td::geo
