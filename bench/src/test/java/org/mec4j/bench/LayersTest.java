package org.mec4j.bench;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.mec4j.Conv2d;

class LayersTest {
  @Test
  void paperLayersComeFromTheBundledCsv() {
    List<Layer> p = Layers.paper();
    assertEquals(12, p.size());
    for (int i = 0; i < 12; i++) assertEquals("cv" + (i + 1), p.get(i).name());
    Conv2d cv1 = p.get(0).spec();
    assertEquals(Conv2d.parse("mb1ih227iw227ic3oc96kh11kw11sh4sw4ph0pw0"), cv1);
    assertEquals(55, cv1.outputHeight());
    Conv2d cv4 = p.get(3).spec();
    assertEquals(Conv2d.parse("ih224ic64oc64kh7sh2sw2"), cv4);
    assertFalse(p.get(0).fixedBatch());
    assertTrue(p.get(0).source().contains("AlexNet conv1"));
    // cv4 at batch 32: im2col needs ~4.8 GB (docs/MEC.md), MEC k_h/s_h-ish times less.
    Conv2d big = p.get(3).at(32);
    assertEquals(4L * 32 * 109 * 109 * 7 * 7 * 64, Formula.im2colBytes(big));
    assertEquals(4L * 32 * 109 * 224 * 7 * 64, Formula.mecBytes(big));
    assertEquals(109.0 * 7 / 224, Formula.ratio(big), 1e-12);
  }

  @Test
  void csvErrorsNameTheLine() {
    String head = "name,i_h,i_w,i_c,k_h,k_w,k_c,s_h,s_w,pad,likely_source\n";
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Layers.parseCsv(head + "x,5,5,1,3,3,1,1,1,0,ok\ny,5,5,1,x,3,1,1,1,0,bad\n"));
    assertTrue(e.getMessage().contains("line 3"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Layers.parseCsv("name,i_w\n"));
    // a comma inside the free-text last column is fine
    List<Layer> l = Layers.parseCsv(head + "x,5,5,1,3,3,1,1,1,0,a, b\n");
    assertEquals("MEC paper, Table 2 (a, b)", l.get(0).source());
  }

  @Test
  void userLayersNameEqualsShapeOrBenchdnnSuffix() {
    Layer a = Layers.parseUser("mine=mb32ih227iw227ic3oc96kh11kw11sh4sw4ph0pw0");
    assertEquals("mine", a.name());
    assertTrue(a.fixedBatch());
    assertEquals(32, a.spec().batch());
    assertEquals(Layers.paper().get(0).at(32), a.spec());

    Layer b = Layers.parseUser("ic3ih227oc96kh11sh4n\"alexnet:conv1\"");
    assertEquals("alexnet:conv1", b.name());
    assertFalse(b.fixedBatch());
    assertEquals(227, b.spec().inputWidth());
    assertEquals(11, b.spec().kernelWidth());
    assertEquals(8, b.at(8).batch());

    Layer c = Layers.parseUser("ih8ic4oc5kh3ph1_n\"padded\"");
    assertEquals("padded", c.name());
    assertEquals(1, c.spec().padTop());
    assertEquals(0, c.spec().padLeft());
  }

  @Test
  void badUserLayersAreRefusedWithAReason() {
    assertThrows(
        IllegalArgumentException.class, () -> Layers.parseUser("mb1ih8ic4oc5kh3")); // no name
    assertThrows(IllegalArgumentException.class, () -> Layers.parseUser("x=mb1ih8ic4oc5")); // no kh
    assertThrows(
        IllegalArgumentException.class,
        () -> Layers.parseUser("x=mb1ih8ic4oc5kh9")); // kernel > input
    assertThrows(IllegalArgumentException.class, () -> Layers.parseUser("bad name=ih8ic4oc5kh3"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Layers.parseUser("x=ih8ic4oc5kh3zz1"));
    assertTrue(e.getMessage().startsWith("layer 'x'"), e.getMessage());
  }

  @Test
  void selection() {
    List<Layer> paper = Layers.paper();
    assertEquals(12, Layers.select(paper, "all", List.of()).size());
    List<Layer> sub = Layers.select(paper, "cv5, CV1", List.of());
    assertEquals(List.of("cv1", "cv5"), sub.stream().map(Layer::name).toList()); // table order
    Layer u = Layers.parseUser("u=ih8ic4oc5kh3");
    assertEquals(
        List.of("u"), Layers.select(paper, "none", List.of(u)).stream().map(Layer::name).toList());
    assertEquals(13, Layers.select(paper, "all", List.of(u)).size());
    assertThrows(IllegalArgumentException.class, () -> Layers.select(paper, "cv13", List.of()));
    assertThrows(IllegalArgumentException.class, () -> Layers.select(paper, "none", List.of()));
    assertThrows(
        IllegalArgumentException.class,
        () -> Layers.select(paper, "cv1", List.of(Layers.parseUser("CV1=ih8ic4oc5kh3"))));
  }
}
