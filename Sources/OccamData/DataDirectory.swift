import Foundation

/// The directory under which Occam keeps data sets it does not get from Debian, one subdirectory per set:
/// `$OCCAM_DATA` when set and not empty, else `$XDG_DATA_HOME/occam`, else `$HOME/.local/share/occam`
/// (where `scripts/fetch-data.sh` puts them); nil when none of these variables is set.
public func occamDataRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
    if let path = environment["OCCAM_DATA"], !path.isEmpty { return URL(fileURLWithPath: path) }
    if let path = environment["XDG_DATA_HOME"], !path.isEmpty {
        return URL(fileURLWithPath: path).appendingPathComponent("occam")
    }
    if let home = environment["HOME"], !home.isEmpty {
        return URL(fileURLWithPath: home).appendingPathComponent(".local/share/occam")
    }
    return nil
}
