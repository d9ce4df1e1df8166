//! A small element tree over quick-xml, enough to check the packaging XML files: elements,
//! attributes, text, comments and the doctype. Well-formedness (matching end tags, one
//! root, no duplicate attributes, defined entities) is checked while reading.

use quick_xml::events::{BytesRef, Event};
use quick_xml::{Reader, XmlVersion};

#[derive(Debug, Default)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
    pub text: String,
}

#[derive(Debug)]
pub struct Doc {
    pub root: Node,
    pub comments: Vec<String>,
    pub doctype: Option<String>,
}

impl Node {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The attribute, or a panic naming the element.
    pub fn req(&self, key: &str) -> &str {
        self.attr(key)
            .unwrap_or_else(|| panic!("<{}> has no {key} attribute: {:?}", self.name, self.attrs))
    }

    pub fn child(&self, name: &str) -> &Node {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("<{}> has no <{name}>", self.name))
    }

    pub fn has_child(&self, name: &str) -> bool {
        self.children.iter().any(|c| c.name == name)
    }

    /// The text of the child element `name`.
    pub fn text_of(&self, name: &str) -> &str {
        self.child(name).text.trim()
    }

    /// This element and everything below it, depth first.
    pub fn descendants(&self) -> Vec<&Node> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.descendants());
        }
        out
    }

    /// Every element named `name` below this one.
    pub fn all(&self, name: &str) -> Vec<&Node> {
        self.descendants()
            .into_iter()
            .filter(|n| n.name == name)
            .collect()
    }

    /// The element named `name` whose `Id` attribute is `id`.
    pub fn by_id(&self, name: &str, id: &str) -> &Node {
        let found: Vec<_> = self
            .all(name)
            .into_iter()
            .filter(|n| n.attr("Id") == Some(id))
            .collect();
        assert_eq!(found.len(), 1, "want exactly one <{name} Id={id:?}>");
        found[0]
    }
}

fn resolve(r: &BytesRef<'_>) -> Result<String, String> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            other => Err(format!("bad character reference: {other:?}")),
        };
    }
    let name = r.xml10_content();
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_string)
        .ok_or_else(|| format!("undefined entity &{name};"))
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> Result<Node, String> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let value = a
            .normalized_value(XmlVersion::Explicit1_0)
            .map_err(|e| e.to_string())?;
        let key = a.key.as_ref().to_string();
        attrs.push((key, value.into_owned()));
    }
    Ok(Node {
        name: e.name().as_ref().to_string(),
        attrs,
        ..Node::default()
    })
}

/// Parses `text`, or says where and why it is not well-formed XML.
pub fn parse(text: &str) -> Result<Doc, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut comments = Vec::new();
    let mut doctype = None;
    let add = |stack: &mut Vec<Node>, node: Node, root: &mut Option<Node>| {
        match stack.last_mut() {
            Some(parent) => parent.children.push(node),
            None if root.is_none() => *root = Some(node),
            None => return Err(format!("a second root element <{}>", node.name)),
        }
        Ok(())
    };
    loop {
        let at = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed at byte {at}: {e}"))?;
        let text_here = |stack: &mut Vec<Node>, t: &str| match stack.last_mut() {
            Some(n) => {
                n.text.push_str(t);
                Ok(())
            }
            None if t.trim().is_empty() => Ok(()),
            None => Err(format!("text outside the root element: {t:?}")),
        };
        match event {
            Event::Start(e) => stack.push(element(&e)?),
            Event::Empty(e) => add(&mut stack, element(&e)?, &mut root)?,
            Event::End(_) => {
                let node = stack.pop().ok_or("an end tag without a start")?;
                add(&mut stack, node, &mut root)?;
            }
            Event::Text(t) => text_here(&mut stack, &t.xml10_content())?,
            Event::CData(t) => text_here(&mut stack, &t.xml10_content())?,
            Event::GeneralRef(r) => text_here(&mut stack, &resolve(&r)?)?,
            Event::Comment(c) => comments.push(c.xml10_content().into_owned()),
            Event::DocType(d) => doctype = Some(d.xml10_content().into_owned()),
            Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{}> is never closed", open.name));
    }
    let root = root.ok_or("no root element")?;
    Ok(Doc {
        root,
        comments,
        doctype,
    })
}

#[test]
fn the_reader_rejects_what_it_should() {
    assert!(parse("<a><b></a>").is_err());
    assert!(parse("<a></a><b/>").is_err());
    assert!(parse("<a x='1' x='2'/>").is_err());
    assert!(parse("<a>&nope;</a>").is_err());
    assert!(parse("<a>").is_err());
    let doc =
        parse("<?xml version='1.0'?><!-- c --><a k='v &amp; w'><b>x &lt; y</b><c/></a>").unwrap();
    assert_eq!(doc.root.req("k"), "v & w");
    assert_eq!(doc.root.text_of("b"), "x < y");
    assert_eq!(doc.comments, vec![" c ".to_string()]);
    assert!(doc.root.has_child("c"));
}
