#include "common/parallel_writer.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "common/error.h"

namespace gd {

unsigned default_thread_count() {
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : n;
}

void append_row_pieces(std::vector<FilePiece>& pieces, uint64_t offset, uint64_t rows, uint64_t row_bytes,
                       const RowFill& produce) {
    constexpr uint64_t kPieceBytes = uint64_t(8) << 20;
    const uint64_t per_piece = std::max<uint64_t>(1, kPieceBytes / std::max<uint64_t>(1, row_bytes));
    for (uint64_t r0 = 0; r0 < rows; r0 += per_piece) {
        const uint64_t n = std::min(per_piece, rows - r0);
        pieces.push_back({offset + r0 * row_bytes, n * row_bytes, [&produce, r0, n](uint8_t* dst) { produce(dst, r0, n); }});
    }
}

void write_file_in_pieces(const std::string& path, uint64_t total_size, const std::vector<FilePiece>& pieces,
                          unsigned threads) {
    for (const auto& p : pieces)
        if (p.offset > total_size || p.nbytes > total_size - p.offset)
            throw Error("internal error: a piece of " + path + " lies outside the file");

    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw Error("cannot create " + tmp + ": " + std::strerror(errno));
    auto fail = [&](const std::string& what, int err) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error(what + " " + tmp + ": " + std::strerror(err));
    };
    if (total_size > 0) {
        const int e = ::posix_fallocate(fd, 0, static_cast<off_t>(total_size));
        if (e == ENOSPC) fail("not enough disk space for " + std::to_string(total_size) + " bytes in", e);
        if (e != 0 && e != EOPNOTSUPP && e != EINVAL) fail("cannot reserve space for", e);
    }

    std::atomic<size_t> next{0};
    std::mutex err_mu;
    std::exception_ptr first_error;
    int io_errno = 0;
    auto worker = [&] {
        std::vector<uint8_t> buf;
        for (;;) {
            {
                std::lock_guard<std::mutex> lock(err_mu);
                if (first_error || io_errno) return;
            }
            const size_t k = next.fetch_add(1);
            if (k >= pieces.size()) return;
            const FilePiece& p = pieces[k];
            try {
                buf.resize(p.nbytes);
                if (p.nbytes) p.fill(buf.data());
            } catch (...) {
                std::lock_guard<std::mutex> lock(err_mu);
                if (!first_error) first_error = std::current_exception();
                return;
            }
            uint64_t done = 0;
            while (done < p.nbytes) {
                const ssize_t w = ::pwrite(fd, buf.data() + done, p.nbytes - done, static_cast<off_t>(p.offset + done));
                if (w < 0 && errno == EINTR) continue;
                if (w <= 0) {
                    std::lock_guard<std::mutex> lock(err_mu);
                    io_errno = w < 0 ? errno : EIO;
                    return;
                }
                done += static_cast<uint64_t>(w);
            }
        }
    };
    const unsigned n = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(pieces.size())));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();

    if (first_error) {
        ::close(fd);
        ::unlink(tmp.c_str());
        std::rethrow_exception(first_error);
    }
    if (io_errno) fail("cannot write", io_errno);
    // posix_fallocate may have been unsupported: make sure the file has its full length.
    if (::ftruncate(fd, static_cast<off_t>(total_size)) != 0) fail("cannot set the size of", errno);
    // Durable before the rename: after a crash the old file or the complete new one is there.
    if (::fsync(fd) != 0) fail("cannot flush", errno);
    if (::close(fd) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw Error("cannot finish writing " + tmp + ": " + std::strerror(e));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp.c_str());
        throw Error("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
    }
}

}  // namespace gd
