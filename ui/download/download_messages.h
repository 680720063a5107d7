#pragma once
// Every sentence the download code shows a user, in plain words that say what to do next.

#include <QCoreApplication>
#include <QNetworkReply>
#include <QString>

namespace gd::ui {

class DownloadMessages {
    Q_DECLARE_TR_FUNCTIONS(gd::ui::DownloadMessages)
public:
    static QString unreachable(const QString& host);
    static QString needsLicense(const QString& host);
    static QString repoNotFound(const QString& repo, const QString& host);
    static QString fileNotFound(const QString& file, const QString& host);
    static QString serverBusy(const QString& host, int status);
    static QString refused(const QString& host, int status);
    static QString insecureConnection(const QString& host);
    static QString badListing(const QString& host);
    static QString tooManyRedirects(const QString& host);
    static QString damaged(const QString& file);
    static QString notEnoughSpace(quint64 needed, quint64 available, const QString& volume);
    static QString diskFull(const QString& volume);
    static QString cannotWrite(const QString& file, const QString& reason);
    static QString interrupted(const QString& host);

    // "5.3 GB", "840 MB", "12 KB": decimal units, as the hub's web pages show them.
    static QString bytes(quint64 n);
    static QString speed(double bytesPerSecond);
    static QString duration(qint64 seconds);
};

// What went wrong with one HTTP exchange, sorted into what the user sees and whether trying again
// later might help (dropped connections, timeouts, 5xx, 429).
struct HttpFailure {
    QString message;
    bool transient = false;
};

// `what` is the repository (for listings) or the file name (for downloads); `isListing` picks the
// not-found wording.
HttpFailure classifyHttpFailure(QNetworkReply::NetworkError error, int httpStatus, const QString& host,
                                const QString& what, bool isListing);

}  // namespace gd::ui
