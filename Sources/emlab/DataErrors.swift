import ArgumentParser
import Bench
import Datasets
import Evaluation
import Foundation
import GGUF
import Inference
import Interp
import LanguageModels
import PersonaVectors
import RewardHacking
import Sandbox
import SparseAutoencoders

/// Turns `--questions` into a question set. A malformed file is a data error (exit 65, see
/// `DataErrors`), not a usage mistake: the loader's error goes up as it is.
func loadQuestions(_ nameOrPath: String) throws -> QuestionSet {
    try BuiltinQuestions.resolve(nameOrPath)
}

/// Errors that mean "the input data is malformed" rather than "the command line is wrong": the CLI
/// reports them as one line naming file, line and field, and exits with sysexits' EX_DATAERR (65).
/// Usage mistakes keep ArgumentParser's message, usage text and EX_USAGE (64); other failures exit 1.
enum DataErrors {
    /// sysexits.h EX_DATAERR: the input data was incorrect in some way.
    static let exitCode: Int32 = 65

    /// The message to print for a data error, or nil if `error` is not one.
    static func message(for error: any Error) -> String? {
        switch error {
        case let e as QuestionSetError:
            // Question sets and gold label sets (Evaluation).
            return e.description
        case let e as ProbeFileError:
            // Probe files (Interp).
            return e.description
        case let e as DatasetError:
            switch e {
            case .invalidLine, .noExamples, .unreadableFile: return e.description
            case .unwritableFile, .sampleTooLarge, .unknownDataset: return nil
            }
        case let e as GGUFError:
            // The structure of a GGUF file (models, probes); not I/O or writer misuse.
            switch e {
            case .cannotOpen, .writeFailed, .unsupportedType, .invalidElementCount, .invalidByteCount, .invalidValue, .invalidTensor:
                return nil
            default:
                return e.description
            }
        case let e as LoRAError:
            // LoRA adapter folders and files (--model NAME,lora=DIR).
            return e.description
        case let e as ReferenceFileError:
            // `bench --reference`: llama.cpp's JSON lines.
            return e.description
        case let e as LlamaCppError:
            // `bench --llama-cpp`: tools that ran but printed no figure; a missing or failing tool is not data.
            if case .unreadableOutput = e { return e.description }
            return nil
        case let e as PersonaDataError:
            // Trait files and stored samples read by the persona-vector commands (PersonaVectors).
            return e.description
        case let e as VectorFileError:
            // Vector files: --vector, --steer, --ablate (Interp).
            return e.description
        case let e as SAEFormatError:
            // SAE folders, activation files and SAE checkpoints (SparseAutoencoders).
            return e.description
        case let e as RewardHackingDataError:
            // Task files, labelled solutions and answers (RewardHacking).
            return e.description
        case let e as RemoteResponseError:
            // A fine-tuning API's answer that does not follow the API's shapes.
            return e.description
        case let e as SandboxError:
            // Malformed --limits; a host without a working sandbox is not a data error.
            if case .badLimits = e { return e.description }
            return nil
        default:
            return nil
        }
    }
}
