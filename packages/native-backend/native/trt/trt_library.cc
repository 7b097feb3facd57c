#include "trt/trt_library.h"

#include <dlfcn.h>

#include <cstdlib>

#include "common.h"

namespace trt_refit {

namespace {

std::mutex gMutex;
TensorRtLibrary* gLibrary = nullptr;

// Candidates for a library: the explicit folder only, when one is given (mixing in the system's copy would load
// a TensorRT the user did not ask for); otherwise the loader's search path.
std::vector<std::string> Candidates(std::string const& libDir, std::string const& soname) {
  if (!libDir.empty()) return {libDir + "/" + soname};
  return {soname};
}

void* OpenFirst(std::vector<std::string> const& candidates, std::vector<std::string>& errors, std::string& opened) {
  for (auto const& c : candidates) {
    dlerror();
    // RTLD_GLOBAL: libnvonnxparser resolves nvinfer symbols from the library already loaded.
    void* h = dlopen(c.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (h) {
      opened = c;
      return h;
    }
    char const* e = dlerror();
    std::string reason = e ? e : "cannot be opened";
    errors.push_back(reason.rfind(c, 0) == 0 ? reason : Concat(c, ": ", reason));
  }
  return nullptr;
}

template <typename Fn>
Fn Symbol(void* handle, char const* name) {
  return reinterpret_cast<Fn>(dlsym(handle, name));
}

}  // namespace

std::string TensorRtHeaderVersionText() {
  return Concat(NV_TENSORRT_MAJOR, ".", NV_TENSORRT_MINOR, ".", NV_TENSORRT_PATCH);
}

TensorRtLibrary& TensorRtLibrary::Load(std::string const& libDir) {
  std::lock_guard<std::mutex> lock(gMutex);
  // A failed attempt may be retried (e.g. with another libDir); a successful one is final, since a process can
  // hold only one libnvinfer of a major. Failed attempts are leaked: their handles may be half-open.
  if (!gLibrary || !gLibrary->ok_) gLibrary = new TensorRtLibrary(libDir);
  return *gLibrary;
}

TensorRtLibrary* TensorRtLibrary::Loaded() {
  std::lock_guard<std::mutex> lock(gMutex);
  return gLibrary && gLibrary->ok_ ? gLibrary : nullptr;
}

TensorRtLibrary::TensorRtLibrary(std::string libDir) : libDir_(std::move(libDir)) {
  OpenInfer();
  if (ok_) OpenParser();
}

void TensorRtLibrary::OpenInfer() {
  std::string const soname = Concat("libnvinfer.so.", NV_TENSORRT_MAJOR);
  void* h = OpenFirst(Candidates(libDir_, soname), errors_, nvinferPath_);
  if (!h) return;
  auto getVersion = Symbol<VersionFn>(h, "getInferLibVersion");
  auto major = Symbol<VersionFn>(h, "getInferLibMajorVersion");
  auto minor = Symbol<VersionFn>(h, "getInferLibMinorVersion");
  auto patch = Symbol<VersionFn>(h, "getInferLibPatchVersion");
  auto build = Symbol<VersionFn>(h, "getInferLibBuildVersion");
  if (major && minor && patch) {
    version_ = {major(), minor(), patch(), build ? build() : 0};
  } else if (getVersion) {
    int32_t v = getVersion();  // major * 10000 + minor * 100 + patch (NV_TENSORRT_VERSION_INT)
    version_ = {v / 10000, (v / 100) % 100, v % 100, 0};
  } else {
    errors_.push_back(Concat(nvinferPath_, ": getInferLibVersion is missing; not a TensorRT library"));
    return;
  }
  createBuilder = Symbol<CreateBuilderFn>(h, "createInferBuilder_INTERNAL");
  createRuntime = Symbol<CreateRuntimeFn>(h, "createInferRuntime_INTERNAL");
  createRefitter = Symbol<CreateRefitterFn>(h, "createInferRefitter_INTERNAL");
  for (auto [fn, name] : {std::pair<void*, char const*>{reinterpret_cast<void*>(createBuilder), "createInferBuilder_INTERNAL"},
                          {reinterpret_cast<void*>(createRuntime), "createInferRuntime_INTERNAL"},
                          {reinterpret_cast<void*>(createRefitter), "createInferRefitter_INTERNAL"}}) {
    if (!fn) errors_.push_back(Concat(nvinferPath_, ": symbol ", name, " is missing"));
  }
  std::string const loaded = Concat(version_.major, ".", version_.minor, ".", version_.patch);
  if (version_.major != NV_TENSORRT_MAJOR) {
    errors_.push_back(Concat(nvinferPath_, " is TensorRT ", loaded, " but the addon was compiled against TensorRT ",
                             TensorRtHeaderVersionText(), " headers; the ABI differs between majors"));
  } else if (version_.minor < NV_TENSORRT_MINOR) {
    errors_.push_back(Concat(nvinferPath_, " is TensorRT ", loaded, ", older than the TensorRT ",
                             TensorRtHeaderVersionText(), " headers the addon was compiled against"));
  }
  // The handle is never closed: engines and host memory handed to JS may outlive every wrapper.
  ok_ = errors_.empty();
}

void TensorRtLibrary::OpenParser() {
  std::string const soname = Concat("libnvonnxparser.so.", NV_TENSORRT_MAJOR);
  void* h = OpenFirst(Candidates(libDir_, soname), parserErrors_, parserPath_);
  if (!h) return;
  auto parser = Symbol<CreateParserFn>(h, "createNvOnnxParser_INTERNAL");
  auto refitter = Symbol<CreateParserRefitterFn>(h, "createNvOnnxParserRefitter_INTERNAL");
  auto version = Symbol<ParserVersionFn>(h, "getNvOnnxParserVersion");
  if (!parser || !refitter) {
    parserErrors_.push_back(Concat(parserPath_, ": createNvOnnxParser_INTERNAL or createNvOnnxParserRefitter_INTERNAL is missing"));
    return;
  }
  parserVersion_ = version ? version() : 0;
  createParser = parser;
  createParserRefitter = refitter;
}

}  // namespace trt_refit
