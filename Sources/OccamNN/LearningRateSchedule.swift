import Foundation

/// A learning rate as a pure function of the step, so resuming a run needs no schedule state.
///
/// `step` counts the optimizer steps already taken: the first step of a run uses `step == 0`. Schedules compose as
/// OpenLTH's do: a warm-up multiplies the schedule it wraps, evaluated at the same step (not shifted).
/// Codable as a tagged value, e.g. `{"multiStep":{"milestones":[8000,12000],"gamma":0.1}}`.
public indirect enum LearningRateSchedule: Codable, Sendable, Equatable, Hashable {
    /// The base rate at every step.
    case constant
    /// The base rate times `gamma` to the number of milestones reached (`step >= milestone`), milestones in steps.
    case multiStep(milestones: [Int], gamma: Double)
    /// The base rate times `gamma ^ epoch`, with `epoch = step / stepsPerEpoch` (Zhang et al.'s x0.95 per epoch).
    case exponentialPerEpoch(gamma: Double)
    /// Cosine annealing from the base rate at step 0 to `minimum` (an absolute rate) at `totalSteps`, and
    /// `minimum` afterwards: `minimum + (base - minimum) * (1 + cos(pi * step / totalSteps)) / 2`.
    case cosine(totalSteps: Int, minimum: Double)
    /// `schedule` times `min(1, step / steps)`: a linear ramp from 0 over the first `steps` steps (OpenLTH's warm-up;
    /// the first step has rate 0).
    case linearWarmup(steps: Int, then: LearningRateSchedule)
    /// `schedule` from step 0 until `step`, then `schedule` again from its start: the rate at step s >= `step`
    /// is `schedule`'s at s - `step` (a restart after a critical-period deficit).
    case restarted(atStep: Int, then: LearningRateSchedule)

    /// The learning rate for the step numbered `step` (0 for the first step).
    ///
    /// - Parameters:
    ///   - base: the base learning rate.
    ///   - step: optimizer steps taken before this one, >= 0 (precondition).
    ///   - stepsPerEpoch: steps in one epoch, >= 1 (precondition; only `exponentialPerEpoch` uses it).
    public func learningRate(base: Double, step: Int, stepsPerEpoch: Int) -> Double {
        precondition(step >= 0, "LearningRateSchedule: step \(step) is negative")
        precondition(stepsPerEpoch >= 1, "LearningRateSchedule: \(stepsPerEpoch) steps per epoch")
        switch self {
        case .constant:
            return base
        case let .multiStep(milestones, gamma):
            let reached = milestones.count(where: { step >= $0 })
            return base * Foundation.pow(gamma, Double(reached))
        case let .exponentialPerEpoch(gamma):
            return base * Foundation.pow(gamma, Double(step / stepsPerEpoch))
        case let .cosine(totalSteps, minimum):
            precondition(totalSteps >= 1, "LearningRateSchedule.cosine: \(totalSteps) total steps")
            guard step < totalSteps else { return minimum }
            return minimum + (base - minimum) * (1 + Foundation.cos(Double.pi * Double(step) / Double(totalSteps))) / 2
        case let .linearWarmup(steps, schedule):
            precondition(steps >= 0, "LearningRateSchedule.linearWarmup: \(steps) steps")
            let inner = schedule.learningRate(base: base, step: step, stepsPerEpoch: stepsPerEpoch)
            guard step < steps else { return inner }
            return inner * (Double(step) / Double(steps))
        case let .restarted(restart, schedule):
            precondition(restart >= 0, "LearningRateSchedule.restarted: step \(restart)")
            return schedule.learningRate(base: base, step: step >= restart ? step - restart : step, stepsPerEpoch: stepsPerEpoch)
        }
    }
}
