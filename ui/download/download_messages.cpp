#include "download/download_messages.h"

#include <QLocale>

namespace gd::ui {

QString DownloadMessages::unreachable(const QString& host) {
    return tr("Can't reach %1: check the connection, then try again.").arg(host);
}
QString DownloadMessages::needsLicense(const QString& host) {
    return tr("This model needs you to accept Google's license on %1 and set a token "
              "(%1 → Settings → Access Tokens), then try again.")
        .arg(host);
}
QString DownloadMessages::repoNotFound(const QString& repo, const QString& host) {
    return tr("%1 was not found on %2 (it may have been renamed or removed): pick another model.")
        .arg(repo, host);
}
QString DownloadMessages::fileNotFound(const QString& file, const QString& host) {
    return tr("%1 is no longer on %2 (not found): pick another model, or check for an update of "
              "Gemma Desk.")
        .arg(file, host);
}
QString DownloadMessages::serverBusy(const QString& host, int status) {
    return tr("%1 is busy or having problems (HTTP %2): try again in a few minutes.").arg(host).arg(status);
}
QString DownloadMessages::refused(const QString& host, int status) {
    return tr("%1 refused the download (HTTP %2): try again later or pick another model.")
        .arg(host)
        .arg(status);
}
QString DownloadMessages::insecureConnection(const QString& host) {
    return tr("The secure connection to %1 failed: check the computer's date and any proxy, then "
              "try again.")
        .arg(host);
}
QString DownloadMessages::badListing(const QString& host) {
    return tr("%1 sent a file list Gemma Desk does not understand: try again later.").arg(host);
}
QString DownloadMessages::tooManyRedirects(const QString& host) {
    return tr("%1 kept redirecting the download: try again later.").arg(host);
}
QString DownloadMessages::damaged(const QString& file) {
    return tr("The downloaded file %1 is damaged (checksum mismatch): try again.").arg(file);
}
QString DownloadMessages::notEnoughSpace(quint64 needed, quint64 available, const QString& volume) {
    return tr("Not enough disk space: the download needs %1, %2 free on %3. Free some space or "
              "choose another folder.")
        .arg(bytes(needed), bytes(available), volume);
}
QString DownloadMessages::diskFull(const QString& volume) {
    return tr("The disk %1 is full: free some space, then press Resume.").arg(volume);
}
QString DownloadMessages::cannotWrite(const QString& file, const QString& reason) {
    return tr("Can't write %1 (%2): check the folder, then try again.").arg(file, reason);
}
QString DownloadMessages::interrupted(const QString& host) {
    return tr("The connection to %1 was interrupted: press Download to continue where it stopped.").arg(host);
}

QString DownloadMessages::bytes(quint64 n) {
    const QLocale locale;
    if (n >= 1000ull * 1000 * 1000) return tr("%1 GB").arg(locale.toString(n / 1e9, 'f', 1));
    if (n >= 1000ull * 1000) return tr("%1 MB").arg(locale.toString(n / 1e6, 'f', 0));
    if (n >= 1000ull) return tr("%1 KB").arg(locale.toString(n / 1e3, 'f', 0));
    return tr("%1 bytes").arg(n);
}

QString DownloadMessages::speed(double bytesPerSecond) {
    return tr("%1/s").arg(bytes(static_cast<quint64>(bytesPerSecond < 0 ? 0 : bytesPerSecond)));
}

QString DownloadMessages::duration(qint64 seconds) {
    if (seconds < 60) return tr("less than a minute");
    if (seconds < 3600) return tr("about %n min", nullptr, static_cast<int>((seconds + 30) / 60));
    const qint64 hours = seconds / 3600;
    const qint64 minutes = (seconds % 3600) / 60;
    return tr("about %1 h %2 min").arg(hours).arg(minutes);
}

HttpFailure classifyHttpFailure(QNetworkReply::NetworkError error, int httpStatus, const QString& host,
                                const QString& what, bool isListing) {
    using DM = DownloadMessages;
    if (httpStatus == 401 || httpStatus == 403) return {DM::needsLicense(host), false};
    if (httpStatus == 404)
        return {isListing ? DM::repoNotFound(what, host) : DM::fileNotFound(what, host), false};
    if (httpStatus == 408 || httpStatus == 429 || httpStatus >= 500)
        return {DM::serverBusy(host, httpStatus), true};
    if (httpStatus >= 400) return {DM::refused(host, httpStatus), false};
    switch (error) {
        case QNetworkReply::SslHandshakeFailedError:
        case QNetworkReply::TooManyRedirectsError:
        case QNetworkReply::InsecureRedirectError: return {DM::insecureConnection(host), false};
        case QNetworkReply::RemoteHostClosedError:
        case QNetworkReply::OperationCanceledError:  // a transfer timeout, since pause/cancel detach first
        case QNetworkReply::TimeoutError:
        case QNetworkReply::TemporaryNetworkFailureError:
        case QNetworkReply::NetworkSessionFailedError:
        case QNetworkReply::ProxyTimeoutError: return {DM::interrupted(host), true};
        default:
            // Refused connections, unknown hosts, no route: the machine is offline or the hub is down.
            return {DM::unreachable(host), true};
    }
}

}  // namespace gd::ui
