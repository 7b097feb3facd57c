// TensorRT opened at run time. All I* methods are inline wrappers over virtual calls, so the only symbols the
// addon needs are the extern "C" factories and version queries, resolved here with dlsym. The vtable layout
// changes between majors (11.0 dropped IRefitter slots) and grows within a major, so a library whose major
// differs from the headers, or which is older than them, is refused before any method is called.
#pragma once

#include <NvInfer.h>
#include <NvOnnxParser.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace trt_refit {

struct TensorRtVersionParts {
  int32_t major = 0, minor = 0, patch = 0, build = 0;
};

class TensorRtLibrary {
 public:
  using CreateBuilderFn = void* (*)(void* logger, int32_t version);
  using CreateRuntimeFn = void* (*)(void* logger, int32_t version);
  using CreateRefitterFn = void* (*)(void* engine, void* logger, int32_t version);
  using CreateParserFn = void* (*)(void* network, void* logger, int version);
  using CreateParserRefitterFn = void* (*)(void* refitter, void* logger, int32_t version);
  using VersionFn = int32_t (*)();
  using ParserVersionFn = int (*)();

  // Opens the libraries (never throws). After a success later calls return the same library whatever libDir
  // they name (the caller reports a different libDir); after a failure they try again.
  static TensorRtLibrary& Load(std::string const& libDir);
  // The loaded library, or nullptr when Load has not succeeded.
  static TensorRtLibrary* Loaded();

  bool ok() const { return ok_; }
  bool parserOk() const { return createParser != nullptr; }
  std::vector<std::string> const& errors() const { return errors_; }
  std::vector<std::string> const& parserErrors() const { return parserErrors_; }
  std::string const& nvinferPath() const { return nvinferPath_; }
  std::string const& parserPath() const { return parserPath_; }
  std::string const& libDir() const { return libDir_; }
  TensorRtVersionParts version() const { return version_; }
  int parserVersion() const { return parserVersion_; }

  CreateBuilderFn createBuilder = nullptr;
  CreateRuntimeFn createRuntime = nullptr;
  CreateRefitterFn createRefitter = nullptr;
  CreateParserFn createParser = nullptr;
  CreateParserRefitterFn createParserRefitter = nullptr;

 private:
  explicit TensorRtLibrary(std::string libDir);
  void OpenInfer();
  void OpenParser();

  std::string libDir_;
  bool ok_ = false;
  std::vector<std::string> errors_;
  std::vector<std::string> parserErrors_;
  std::string nvinferPath_;
  std::string parserPath_;
  TensorRtVersionParts version_;
  int parserVersion_ = 0;
};

// "10.16.0" of the headers the addon was compiled against.
std::string TensorRtHeaderVersionText();

}  // namespace trt_refit
