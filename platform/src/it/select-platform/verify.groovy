// -Djavacpp.platform=linux-arm64: the linux-arm64 jars of mec4j, JavaCPP and OpenBLAS, no other platform's.
def deps = new File(basedir, 'target/deps.txt').text
for (a in ['org.mec4j:mec4j', 'org.bytedeco:javacpp', 'org.bytedeco:openblas'])
  assert deps.contains(a + ':jar:linux-arm64:') : "no linux-arm64 jar of $a in:\n$deps"
assert !deps.contains('linux-x86_64') : "another platform in:\n$deps"
println "mec4j-platform honours -Djavacpp.platform: " + deps.readLines().findAll { it.contains('linux-arm64') }.size() + " linux-arm64 jars, no other platform's"
return true
