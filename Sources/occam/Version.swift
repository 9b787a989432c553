import OccamData

/// What `occam --version` prints: "occam 0.1.0 (commit <sha>)", the commit of the source checkout the
/// executable lives in (see `Provenance.commit`).
let occamVersionText = Provenance.current.versionDescription
